//! Configuration through the library's command line (`trawl::cli`), as the
//! binary parses it: every sample under deploy/config/ validates; a flag
//! beats an environment variable beats the config file beats the built-in
//! default (read back with `--print-config`'s report); a value out of range
//! is an error that names the setting, wherever it was set. One test runs
//! the real binary, for `--help`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use trawl::cli::Cli;

/// What `trawl ARGS --print-config` prints with `env` as the environment
/// (and nothing else of the process's), or the error it stops with:
/// parsing, layering and the validation of every setting.
fn print_config(args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let args = std::iter::once("trawl").chain(args.iter().copied());
    let env = env
        .iter()
        .map(|(name, value)| (OsString::from(name), OsString::from(value)));
    let loaded = trawl::config::try_parse_from::<Cli, _, _>(args, env).map_err(|e| e.to_string())?;
    loaded.cli.job().map_err(|e| format!("{e:#}"))?;
    Ok(loaded.effective_settings())
}

fn stdout(result: Result<String, String>) -> String {
    result.unwrap_or_else(|error| panic!("trawl failed: {error}"))
}

fn stderr_of_failure(result: Result<String, String>) -> String {
    result.expect_err("trawl should have failed")
}

fn trawl_binary(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
    // The developer's own TRAWL_ variables must not leak into the checks.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TRAWL_") {
            command.env_remove(name);
        }
    }
    command.args(args).output().expect("run trawl")
}

/// The value and origin `--print-config` reports for `key`.
fn reported<'a>(report: &'a str, key: &str) -> (&'a str, &'a str) {
    let line = report
        .lines()
        .find(|line| line.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{key} missing from:\n{report}"));
    let (assignment, origin) = line.rsplit_once(" # ").unwrap();
    (assignment.trim_end().split_once(" = ").unwrap().1, origin)
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config")
}

/// A value as the text a flag would carry (1.0 and 1 read the same).
fn text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        toml::Value::Boolean(on) => on.to_string(),
        toml::Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => panic!("unexpected value {other}"),
    }
}

/// Every table of the sample is a subcommand that validates with it, and
/// reports each of the sample's keys as coming from the file, unchanged.
fn check_sample(path: &Path) {
    let sample: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let tables: Vec<(&String, &toml::Table)> = sample
        .iter()
        .filter_map(|(name, value)| Some((name, value.as_table()?)))
        .collect();
    assert!(!tables.is_empty(), "{}: no subcommand table", path.display());
    for (subcommand, table) in tables {
        let report = stdout(print_config(
            &["--config", path.to_str().unwrap(), subcommand, "--print-config"],
            &[],
        ));
        let printed: toml::Table = report.parse().expect("the report is TOML");
        for (key, value) in sample.iter().filter(|(_, value)| !value.is_table()) {
            assert_eq!(reported(&report, key).1, "file", "{}: {key}", path.display());
            assert_eq!(
                text(&printed[key.as_str()]),
                text(value),
                "{}: {key}",
                path.display()
            );
        }
        let printed = printed[subcommand.as_str()].as_table().unwrap();
        for (key, value) in table {
            assert_eq!(
                reported(&report, key).1,
                "file",
                "{}: [{subcommand}] {key}",
                path.display()
            );
            assert_eq!(
                text(&printed[key.as_str()]),
                text(value),
                "{}: [{subcommand}] {key}",
                path.display()
            );
        }
    }
}

#[test]
fn every_sample_config_validates() {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(samples_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if path.extension().is_some_and(|ext| ext == "toml") {
            check_sample(&path);
            checked.push(name);
        }
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "crawler.toml",
            "docs.toml",
            "index.toml",
            "serve.toml",
            "single.toml"
        ]
    );
}

#[test]
fn a_flag_beats_the_environment_beats_the_file_beats_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trawl.toml");
    std::fs::write(&file, "[crawl]\ndata_dir = \"/from/file\"\ndelay_ms = 111\n").unwrap();
    let config = file.to_str().unwrap();
    let env = [("TRAWL_DELAY_MS", "222")];

    let both = [
        "--config",
        config,
        "crawl",
        "--seed",
        "http://a.test/",
        "--print-config",
    ];
    let report = stdout(print_config(&[&both[..], &["--delay-ms", "333"]].concat(), &env));
    assert_eq!(reported(&report, "delay_ms"), ("333", "flag"));
    assert_eq!(reported(&report, "data_dir"), ("\"/from/file\"", "file"));

    let report = stdout(print_config(&both, &env));
    assert_eq!(reported(&report, "delay_ms"), ("222", "env TRAWL_DELAY_MS"));

    let report = stdout(print_config(&both, &[]));
    assert_eq!(reported(&report, "delay_ms"), ("111", "file"));

    let report = stdout(print_config(
        &[
            "crawl",
            "--seed",
            "http://a.test/",
            "--data-dir",
            "d",
            "--print-config",
        ],
        &[],
    ));
    assert_eq!(reported(&report, "delay_ms"), ("1000", "default"));
    assert_eq!(reported(&report, "data_dir"), ("\"d\"", "flag"));

    // TRAWL_CONFIG names the file when --config does not.
    let report = stdout(print_config(
        &["crawl", "--seed", "http://a.test/", "--print-config"],
        &[("TRAWL_CONFIG", config)],
    ));
    assert_eq!(reported(&report, "delay_ms"), ("111", "file"));
}

#[test]
fn environment_variables_set_lists_and_switches() {
    let env = [
        ("TRAWL_SEED", "http://a.test/,http://b.test/"),
        ("TRAWL_ALLOW_PRIVATE", "true"),
        ("TRAWL_DATA_DIR", "/from/env"),
        ("TRAWL_LOG_JSON", "true"),
    ];
    let report = stdout(print_config(&["crawl", "--print-config"], &env));
    assert_eq!(
        reported(&report, "seed"),
        ("[\"http://a.test/\", \"http://b.test/\"]", "env TRAWL_SEED")
    );
    assert_eq!(
        reported(&report, "allow_private"),
        ("true", "env TRAWL_ALLOW_PRIVATE")
    );
    assert_eq!(
        reported(&report, "data_dir"),
        ("\"/from/env\"", "env TRAWL_DATA_DIR")
    );
    assert_eq!(reported(&report, "log_json"), ("true", "env TRAWL_LOG_JSON"));

    // Flags replace an environment list rather than add to it.
    let args = ["crawl", "--print-config", "--seed", "http://c.test/"];
    let report = stdout(print_config(&args, &env));
    assert_eq!(reported(&report, "seed"), ("[\"http://c.test/\"]", "flag"));
}

#[test]
fn unknown_keys_and_wrong_types_are_errors_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trawl.toml");
    let config = file.to_str().unwrap();
    for (text, expected) in [
        (
            "[crawl]\ndata_dir = \"d\"\ndelay = 5\n",
            "[crawl] delay: unknown key; did you mean delay_ms?",
        ),
        (
            "[crawler]\ndata_dir = \"d\"\n",
            "[crawler]: unknown table; did you mean [crawl]?",
        ),
        ("data_dir = \"d\"\n", "top-level key data_dir: unknown key"),
        (
            "[crawl]\ndata_dir = \"d\"\ndelay_ms = \"soon\"\n",
            "[crawl] delay_ms: invalid value \"soon\"",
        ),
        (
            "[crawl]\ndata_dir = \"d\"\nallow_private = \"yes\"\n",
            "[crawl] allow_private: expected true or false, found a string",
        ),
        (
            "[crawl]\ndata_dir = \"d\"\nscope = \"planet\"\n",
            "[crawl] scope: invalid value \"planet\"",
        ),
        (
            "[crawl]\ndata_dir = [\"a\", \"b\"]\n",
            "[crawl] data_dir: expected one value, found an array",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let error = stderr_of_failure(print_config(
            &["--config", config, "crawl", "--print-config"],
            &[],
        ));
        assert!(error.contains(config), "{text}: {error}");
        assert!(error.contains(expected), "{text}: {error}");
    }

    let error = stderr_of_failure(print_config(
        &["crawl", "--data-dir", "d", "--print-config"],
        &[("TRAWL_PER_HOST", "many")],
    ));
    assert!(
        error.contains("TRAWL_PER_HOST: invalid value \"many\""),
        "{error}"
    );

    let error = stderr_of_failure(print_config(&["--config", "/no/such/trawl.toml", "crawl"], &[]));
    assert!(error.contains("/no/such/trawl.toml"), "{error}");
}

// What --print-config prints is what runs: a value out of its range is an
// error naming the setting, from a flag, the environment or the file, and
// so is a combination that cannot run; nothing is clamped.
#[test]
fn out_of_range_settings_are_errors_that_name_them() {
    let crawl = [
        "crawl",
        "--seed",
        "http://a.test/",
        "--data-dir",
        "d",
        "--print-config",
    ];
    for (extra, expected) in [
        (&["--lease-ms", "50"][..], "--lease-ms"),
        (&["--per-host", "0"][..], "--per-host"),
        (&["--concurrency", "0"][..], "--concurrency"),
        (&["--max-body-bytes", "10"][..], "--max-body-bytes"),
        (&["--delay-factor=-1"][..], "--delay-factor"),
        (&["--timeout-ms", "0"][..], "--timeout-ms"),
        (
            &["--redis", "redis://127.0.0.1/", "--partitions", "0"][..],
            "--partitions",
        ),
        (
            &["--redis", "redis://127.0.0.1/", "--partition-lease-ms", "10"][..],
            "--partition-lease-ms",
        ),
        (&["--per-host", "4", "--per-ip", "2"][..], "--per-ip"),
        (
            &["--revisit-min-secs", "10", "--revisit-max-secs", "5"][..],
            "--revisit-min-secs",
        ),
    ] {
        let error = stderr_of_failure(print_config(&[&crawl[..], extra].concat(), &[]));
        assert!(error.contains(expected), "{extra:?}: {error}");
    }
    let error = stderr_of_failure(print_config(&crawl, &[("TRAWL_LEASE_MS", "50")]));
    assert!(error.contains("TRAWL_LEASE_MS"), "{error}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trawl.toml");
    std::fs::write(&file, "[crawl]\nlease_ms = 50\n").unwrap();
    let error = stderr_of_failure(print_config(
        &[&["--config", file.to_str().unwrap()][..], &crawl[..]].concat(),
        &[],
    ));
    assert!(error.contains("[crawl] lease_ms"), "{error}");

    let serve = ["serve", "--data-dir", "d", "--print-config"];
    let error = stderr_of_failure(print_config(
        &[&serve[..], &["--shard-timeout-ms", "0"]].concat(),
        &[],
    ));
    assert!(error.contains("--shard-timeout-ms"), "{error}");
    let index = [
        "index",
        "--amqp",
        "amqp://127.0.0.1/",
        "--data-dir",
        "d",
        "--print-config",
    ];
    let error = stderr_of_failure(print_config(
        &[&index[..], &["--shard", "2", "--shards", "2"]].concat(),
        &[],
    ));
    assert!(error.contains("--shard 2"), "{error}");
    let error = stderr_of_failure(print_config(
        &[
            &index[..],
            &["--shard", "0", "--shards", "1", "--commit-docs", "0"],
        ]
        .concat(),
        &[],
    ));
    assert!(error.contains("--commit-docs"), "{error}");

    // --per-ip unset follows a larger --per-host: no error to work around.
    stdout(print_config(&[&crawl[..], &["--per-host", "8"]].concat(), &[]));

    // The value that runs is the value printed.
    let report = stdout(print_config(&[&crawl[..], &["--lease-ms", "100"]].concat(), &[]));
    assert_eq!(reported(&report, "lease_ms"), ("100", "flag"));
}

#[test]
fn help_names_each_flags_environment_variable() {
    let output = trawl_binary(&["crawl", "--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "[env: TRAWL_DELAY_MS]",
        "[env: TRAWL_SEED]",
        "[env: TRAWL_CONFIG]",
        "--print-config",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}
