//! Configuration through the real `trawl` binary: every sample under
//! deploy/config/ validates, and a flag beats an environment variable beats
//! the config file beats the built-in default (read back with
//! `--print-config`, which starts nothing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trawl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
    // The developer's own TRAWL_ variables must not leak into the checks.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TRAWL_") {
            command.env_remove(name);
        }
    }
    command.args(args).envs(env.iter().copied());
    command.output().expect("run trawl")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "trawl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of_failure(output: &Output) -> String {
    assert!(!output.status.success(), "trawl should have failed");
    String::from_utf8(output.stderr.clone()).unwrap()
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
        let output = trawl(
            &["--config", path.to_str().unwrap(), subcommand, "--print-config"],
            &[],
        );
        let report = stdout(&output);
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

    let both = ["--config", config, "crawl", "--print-config"];
    let report = stdout(&trawl(&[&both[..], &["--delay-ms", "333"]].concat(), &env));
    assert_eq!(reported(&report, "delay_ms"), ("333", "flag"));
    assert_eq!(reported(&report, "data_dir"), ("\"/from/file\"", "file"));

    let report = stdout(&trawl(&both, &env));
    assert_eq!(reported(&report, "delay_ms"), ("222", "env TRAWL_DELAY_MS"));

    let report = stdout(&trawl(&both, &[]));
    assert_eq!(reported(&report, "delay_ms"), ("111", "file"));

    let report = stdout(&trawl(&["crawl", "--data-dir", "d", "--print-config"], &[]));
    assert_eq!(reported(&report, "delay_ms"), ("1000", "default"));
    assert_eq!(reported(&report, "data_dir"), ("\"d\"", "flag"));

    // TRAWL_CONFIG names the file when --config does not.
    let report = stdout(&trawl(&["crawl", "--print-config"], &[("TRAWL_CONFIG", config)]));
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
    let report = stdout(&trawl(&["crawl", "--print-config"], &env));
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
    let report = stdout(&trawl(&args, &env));
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
        let error = stderr_of_failure(&trawl(&["--config", config, "crawl", "--print-config"], &[]));
        assert!(error.contains(config), "{text}: {error}");
        assert!(error.contains(expected), "{text}: {error}");
    }

    let error = stderr_of_failure(&trawl(
        &["crawl", "--data-dir", "d", "--print-config"],
        &[("TRAWL_PER_HOST", "many")],
    ));
    assert!(
        error.contains("TRAWL_PER_HOST: invalid value \"many\""),
        "{error}"
    );

    let error = stderr_of_failure(&trawl(&["--config", "/no/such/trawl.toml", "crawl"], &[]));
    assert!(error.contains("/no/such/trawl.toml"), "{error}");
}

#[test]
fn help_names_each_flags_environment_variable() {
    let help = stdout(&trawl(&["crawl", "--help"], &[]));
    for expected in [
        "[env: TRAWL_DELAY_MS]",
        "[env: TRAWL_SEED]",
        "[env: TRAWL_CONFIG]",
        "--print-config",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}
