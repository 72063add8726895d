//! The deployment files under `deploy/`, held to the binary they run.
//!
//! - Every `trawl SUBCOMMAND --flag` that docker-compose.yml, the
//!   Kubernetes manifests and local.sh name must be one the binary accepts:
//!   the test asks the built binary's `--help`, so a flag renamed or removed
//!   in the CLI fails here rather than in a cluster.
//! - `deploy/local.sh` runs the whole topology on this machine (the Redis
//!   and RabbitMQ that `scripts/setup` starts, or `TRAWL_TEST_REDIS` and
//!   `TRAWL_TEST_AMQP`), crawls the fixture web and answers a search through
//!   nginx. Its run has a Redis and RabbitMQ prefix of its own, deleted at
//!   the end, panics included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amqp::AmqpConfig;
use crawler::frontier::{RedisFrontier, RedisFrontierConfig};
use test_support::fixture::{Fixture, PAGES, unique_word};
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `path` as the repository names it, for messages.
fn relative(path: &Path) -> String {
    path.strip_prefix(repo()).unwrap_or(path).display().to_string()
}

// ---------------------------------------------------------------------------
// The flags the deployment files name

/// One `trawl` command line in a deployment file: the words after `trawl`.
#[derive(Debug)]
struct Invocation {
    file: String,
    words: Vec<String>,
}

impl Invocation {
    /// The global flags before the subcommand, the subcommand, and the flags
    /// after it (`--name`, without a value given as `--name=value`).
    fn parts(&self) -> (Vec<String>, Option<&str>, Vec<String>) {
        let flag = |word: &String| word.split('=').next().unwrap_or_default().to_string();
        let position = self.words.iter().position(|word| !word.starts_with('-'));
        let before = &self.words[..position.unwrap_or(self.words.len())];
        let subcommand = position.map(|p| self.words[p].as_str());
        let after = position.map_or(&[][..], |p| &self.words[p + 1..]);
        let long = |words: &[String]| -> Vec<String> {
            words
                .iter()
                .filter(|word| word.starts_with("--") && word.len() > 2)
                .map(flag)
                .collect()
        };
        (long(before), subcommand, long(after))
    }
}

/// Words that end a command in a shell line.
const SHELL_OPERATORS: &[&str] = &[";", "&&", "||", "|", "&", ">", ">>", "<", "2>", "2>&1"];

/// Whether `word` runs the binary: `trawl`, a path to it, or local.sh's
/// variable that holds the path.
fn is_trawl(word: &str) -> bool {
    word.rsplit('/').next() == Some("trawl") || word == "$trawl" || word == "${trawl}"
}

/// The invocations in an argument vector: `trawl ...` wherever it starts,
/// and those in the script of `sh -c SCRIPT`.
fn scan_argv(file: &str, argv: &[String], found: &mut Vec<Invocation>) {
    let shell = argv
        .first()
        .is_some_and(|first| matches!(first.rsplit('/').next(), Some("sh" | "bash")));
    if shell {
        if let Some(c) = argv.iter().position(|word| word == "-c")
            && let Some(script) = argv.get(c + 1)
        {
            scan_shell(file, script, found);
        }
        return;
    }
    for (i, word) in argv.iter().enumerate() {
        // A run is followed by a subcommand or a flag; anything else (`[ -x
        // "$target/$profile/trawl" ]`) names the file.
        let runs = argv.get(i + 1).is_some_and(|next| {
            next.starts_with('-') || next.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        });
        if is_trawl(word) && runs {
            let words = argv[i + 1..]
                .iter()
                .take_while(|word| !SHELL_OPERATORS.contains(&word.as_str()))
                .cloned()
                .collect();
            found.push(Invocation {
                file: file.to_string(),
                words,
            });
        }
    }
}

/// The invocations in shell text: lines joined at their trailing `\`,
/// comment lines skipped, each line split into words as the shell would.
fn scan_shell(file: &str, text: &str, found: &mut Vec<Invocation>) {
    for line in text.replace("\\\n", " ").lines() {
        let line = line.trim();
        if line.starts_with('#') || !line.contains("trawl") {
            continue;
        }
        let words = shlex::split(line).unwrap_or_else(|| panic!("{file}: cannot split the line {line:?}"));
        scan_argv(file, &words, found);
    }
}

fn strings(node: &Yaml) -> Vec<String> {
    match node {
        Yaml::Array(items) => items
            .iter()
            .map(|item| match item {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(n) => n.to_string(),
                other => panic!("a non-string in a command: {other:?}"),
            })
            .collect(),
        Yaml::String(line) => shlex::split(line).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn load_yaml(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A mapping with YAML merge keys (`<<: *anchor`) applied, as compose does.
fn merged(node: &Yaml) -> yaml_rust2::yaml::Hash {
    let Yaml::Hash(hash) = node else {
        return Default::default();
    };
    let mut result = match hash.get(&Yaml::String("<<".into())) {
        Some(base) => merged(base),
        None => Default::default(),
    };
    for (key, value) in hash {
        if key.as_str() != Some("<<") {
            result.insert(key.clone(), value.clone());
        }
    }
    result
}

fn key(name: &str) -> Yaml {
    Yaml::String(name.to_string())
}

/// A compose service of the trawl image runs `trawl` with its `command`
/// (the image's entrypoint); any service may run it in a healthcheck.
fn compose_invocations(path: &Path) -> Vec<Invocation> {
    let file = relative(path);
    let mut found = Vec::new();
    for document in load_yaml(path) {
        let services = merged(&document);
        let Some(Yaml::Hash(services)) = services.get(&key("services")) else {
            panic!("{file}: no services");
        };
        for service in services.values() {
            let service = merged(service);
            let image = service
                .get(&key("image"))
                .and_then(Yaml::as_str)
                .unwrap_or_default();
            let command = service.get(&key("command")).map(strings).unwrap_or_default();
            if image.starts_with("trawl") && !command.is_empty() {
                found.push(Invocation {
                    file: file.clone(),
                    words: command,
                });
            } else {
                scan_argv(&file, &command, &mut found);
            }
            if let Some(healthcheck) = service.get(&key("healthcheck")) {
                let test = merged(healthcheck)
                    .get(&key("test"))
                    .map(strings)
                    .unwrap_or_default();
                scan_argv(&file, &test, &mut found);
            }
        }
    }
    found
}

/// A Kubernetes container of the trawl image without `command` runs
/// `trawl` with its `args`; with a `command`, that runs.
fn k8s_invocations(path: &Path) -> Vec<Invocation> {
    fn walk(file: &str, node: &Yaml, found: &mut Vec<Invocation>) {
        match node {
            Yaml::Hash(hash) => {
                for (name, value) in hash {
                    if matches!(name.as_str(), Some("containers" | "initContainers"))
                        && let Yaml::Array(containers) = value
                    {
                        containers
                            .iter()
                            .for_each(|container| container_invocations(file, container, found));
                    } else {
                        walk(file, value, found);
                    }
                }
            }
            Yaml::Array(items) => items.iter().for_each(|item| walk(file, item, found)),
            _ => {}
        }
    }
    fn container_invocations(file: &str, container: &Yaml, found: &mut Vec<Invocation>) {
        let image = container["image"].as_str().unwrap_or_default();
        let args = strings(&container["args"]);
        let command = strings(&container["command"]);
        if command.is_empty() && image.starts_with("trawl") {
            found.push(Invocation {
                file: file.to_string(),
                words: args,
            });
        } else {
            scan_argv(file, &[command, args].concat(), found);
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            scan_argv(file, &strings(&container[probe]["exec"]["command"]), found);
        }
    }
    let file = relative(path);
    let mut found = Vec::new();
    for document in load_yaml(path) {
        walk(&file, &document, &mut found);
    }
    found
}

/// What the binary accepts, from its own help.
struct Cli {
    global_flags: BTreeSet<String>,
    /// Subcommand -> its flags; `None` for a subcommand the binary refuses.
    subcommands: BTreeMap<String, Option<BTreeSet<String>>>,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            global_flags: flags_in_help(&help(&[]).expect("trawl --help")),
            subcommands: BTreeMap::new(),
        }
    }

    fn flags_of(&mut self, subcommand: &str) -> Option<&BTreeSet<String>> {
        self.subcommands
            .entry(subcommand.to_string())
            .or_insert_with(|| help(&[subcommand]).map(|text| flags_in_help(&text)))
            .as_ref()
    }
}

fn help(subcommand: &[&str]) -> Option<String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(subcommand)
        .arg("--help")
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| String::from_utf8(output.stdout).unwrap())
}

/// The long flags clap's help defines: lines like `  -h, --help` and
/// `      --data-dir <DIR>` (a flag only mentioned in a description is not one).
fn flags_in_help(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = match line.as_bytes() {
                [b'-', short, b',', b' ', ..] if *short != b'-' => &line[4..],
                _ => line,
            };
            let name = line.strip_prefix("--")?;
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| format!("--{name}"))
        })
        .collect()
}

#[test]
fn deployment_files_name_only_subcommands_and_flags_that_exist() {
    let deploy = repo().join("deploy");
    let mut groups: Vec<(&str, Vec<Invocation>)> = vec![
        (
            "docker-compose.yml",
            compose_invocations(&deploy.join("docker-compose.yml")),
        ),
        ("local.sh", {
            let path = deploy.join("local.sh");
            let mut found = Vec::new();
            scan_shell(
                &relative(&path),
                &std::fs::read_to_string(&path).unwrap(),
                &mut found,
            );
            found
        }),
    ];
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(deploy.join("k8s"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    manifests.sort();
    groups.push((
        "k8s/",
        manifests.iter().flat_map(|path| k8s_invocations(path)).collect(),
    ));

    let mut cli = Cli::new();
    let mut problems = Vec::new();
    for (group, invocations) in &groups {
        // The extraction itself must not miss the topology's daemons.
        let named: BTreeSet<&str> = invocations.iter().filter_map(|i| i.parts().1).collect();
        for daemon in ["crawl", "index", "docs", "serve"] {
            assert!(
                named.contains(daemon),
                "{group}: found no `trawl {daemon}` (found {named:?})"
            );
        }
        for invocation in invocations {
            let (global, subcommand, flags) = invocation.parts();
            let file = &invocation.file;
            for flag in global.iter().filter(|flag| !cli.global_flags.contains(*flag)) {
                problems.push(format!("{file}: `trawl {flag}`: no such global flag"));
            }
            let Some(subcommand) = subcommand else {
                problems.push(format!(
                    "{file}: `trawl {}` names no subcommand",
                    invocation.words.join(" ")
                ));
                continue;
            };
            let Some(accepted) = cli.flags_of(subcommand) else {
                problems.push(format!("{file}: `trawl {subcommand}`: no such subcommand"));
                continue;
            };
            for flag in flags.iter().filter(|flag| !accepted.contains(*flag)) {
                problems.push(format!(
                    "{file}: `trawl {subcommand} {flag}`: no such flag (see trawl {subcommand} --help)"
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// `kubectl apply -k deploy/k8s` applies what kustomization.yaml lists:
/// a manifest left out of it would silently not be deployed.
#[test]
fn kustomization_lists_every_manifest() {
    let k8s = repo().join("deploy/k8s");
    let kustomization = &load_yaml(&k8s.join("kustomization.yaml"))[0];
    let listed: BTreeSet<String> = strings(&kustomization["resources"]).into_iter().collect();
    let present: BTreeSet<String> = std::fs::read_dir(&k8s)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") && name != "kustomization.yaml")
        .collect();
    assert_eq!(listed, present);
    for name in &present {
        for document in load_yaml(&k8s.join(name)) {
            assert!(
                document["apiVersion"].as_str().is_some() && document["kind"].as_str().is_some(),
                "{name}: a document without apiVersion and kind"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// local.sh end to end

/// A local.sh run in a temporary directory. Dropped, it stops whatever is
/// still running and deletes the run's Redis keys and RabbitMQ queues.
struct LocalRun {
    dir: tempfile::TempDir,
    prefix: String,
    redis: String,
    amqp: String,
    stopped: bool,
}

impl LocalRun {
    fn new() -> LocalRun {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        LocalRun {
            dir: tempfile::tempdir().unwrap(),
            prefix: format!("trawl-test-deploy-{}-{nanos}", std::process::id()),
            redis: std::env::var("TRAWL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
            amqp: std::env::var("TRAWL_TEST_AMQP")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            stopped: false,
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(repo().join("deploy/local.sh"));
        command
            .args(args)
            .arg("--dir")
            .arg(self.dir.path())
            .env("TRAWL_BIN", env!("CARGO_BIN_EXE_trawl"))
            .env("TRAWL_LOCAL_PREFIX", &self.prefix)
            .env("TRAWL_REDIS", &self.redis)
            .env("TRAWL_AMQP", &self.amqp)
            .env("RUST_LOG", "info");
        command
    }

    /// Runs `local.sh COMMAND --dir DIR ARGS...`, which must succeed.
    async fn run(&self, command: &str, args: &[&str]) -> String {
        let mut full = self.command(&[command]);
        full.args(args);
        let output: Output = tokio::time::timeout(
            Duration::from_secs(300),
            tokio::process::Command::from(full).output(),
        )
        .await
        .unwrap_or_else(|_| panic!("local.sh {command}: not done after five minutes"))
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "local.sh {command} failed ({}):\n{stdout}\n{}\nlogs:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.logs()
        );
        stdout
    }

    fn logs(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("logs")) else {
            return String::new();
        };
        let mut text = String::new();
        for entry in entries {
            let path = entry.unwrap().path();
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            text.push_str(&format!("== {}\n", path.display()));
            tail.iter()
                .rev()
                .for_each(|line| text.push_str(&format!("{line}\n")));
        }
        text
    }
}

impl Drop for LocalRun {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.command(&["down"]).output();
        }
        let (redis, amqp, prefix) = (self.redis.clone(), self.amqp.clone(), self.prefix.clone());
        // Drop cannot await, and the test's runtime may be unwinding: a
        // runtime of its own on a thread of its own.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut config = RedisFrontierConfig::new(&redis);
                config.prefix = prefix.clone();
                RedisFrontier::client(config)
                    .await
                    .unwrap()
                    .delete_all()
                    .await
                    .unwrap();

                let mut config = AmqpConfig::new(amqp, prefix);
                config.shards = 2;
                let connection = amqp::connect(&config, "test").await.unwrap();
                let channel = connection.create_channel().await.unwrap();
                config.topology().delete(&channel).await.unwrap();
                connection.close(200, "done".into()).await.unwrap();
            });
        })
        .join();
        if deleted.is_err() && !std::thread::panicking() {
            panic!("could not delete the run's Redis keys and RabbitMQ queues");
        }
    }
}

/// The links of a search's results, asked through `base` (nginx).
async fn search(client: &reqwest::Client, base: &str, query: &str) -> Vec<String> {
    let Ok(response) = client
        .get(format!("{base}api/v1/search"))
        .query(&[("query", query)])
        .send()
        .await
    else {
        return Vec::new();
    };
    let body: serde_json::Value =
        serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(serde_json::Value::Null);
    body["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .filter_map(|result| result["link"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_sh_crawls_and_answers_through_nginx_then_stops_cleanly() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let mut run = LocalRun::new();

    let up = run.run("up", &[]).await;
    let base = up
        .lines()
        .find_map(|line| line.strip_prefix("search at "))
        .unwrap_or_else(|| panic!("local.sh up printed no search URL:\n{up}"))
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}healthz")).send().await.unwrap();
    assert!(
        health.status().is_success(),
        "nginx /healthz: {}",
        health.status()
    );

    let seed = fixture.url("/site/index.html");
    let include = fixture.base();
    run.run(
        "crawl",
        &[&seed, "--include", &include, "--allow-private", "--delay-ms", "0"],
    )
    .await;

    // Pages of both shards, found by the word only they carry, through
    // nginx, a replica, the shards and the document service.
    let wanted: Vec<(String, String)> = [0, 23, PAGES - 1]
        .into_iter()
        .map(|i| (unique_word(i), fixture.url(&format!("/site/p/{i}.html"))))
        .chain([(unique_word(1002), fixture.url("/site/p/sub/2.html"))])
        .collect();
    for (word, link) in &wanted {
        // Until its page is indexed, a word may be "corrected" to another
        // page's word one letter away: wait for the exact answer.
        let mut last = Vec::new();
        let answered = tokio::time::timeout(Duration::from_secs(180), async {
            loop {
                last = search(&client, &base, word).await;
                if last == [link.as_str()] {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;
        assert!(
            answered.is_ok(),
            "{word} did not find only {link} within three minutes (last: {last:?}); logs:\n{}",
            run.logs()
        );
    }

    let status = run.command(&["status"]).output().unwrap();
    let status_text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "local.sh status:\n{status_text}");
    let healthy = status_text
        .lines()
        .filter(|line| line.split_whitespace().nth(2) == Some("healthy"))
        .count();
    assert_eq!(healthy, 8, "local.sh status:\n{status_text}");

    run.run("down", &[]).await;
    run.stopped = true;
}
