//! WARC archives read back by warcio, an independent reader
//! (`warc_records.py` beside this crate; `scripts/setup` installs warcio).

use std::process::Stdio;

use serde_json::Value;

/// Every record of the WARC files in `dir`, as warcio read them.
pub fn warcio_records(dir: &std::path::Path) -> Vec<Value> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".warc.gz"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no WARC file in {}", dir.display());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/warc_records.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .args(&files)
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 runs (scripts/setup installs warcio)");
    assert!(
        output.status.success(),
        "warcio could not read the archive (is warcio installed? scripts/setup installs it)"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}
