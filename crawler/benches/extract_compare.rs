//! The streaming extraction against the DOM one it replaced
//! (`crawler::parse::dom`), page by page over whole documentation sites:
//! every field of every page compared, each page that differs listed with
//! the field and where the two part.
//!
//!   cargo bench -p crawler --bench extract_compare [-- DIR...]
//!
//! DIR defaults to the Rust docs rustup installed and Python's
//! (`apt-get install python3-doc`). Prints a line per differing field of a
//! page, then a summary (pages, pages that differ per field, milliseconds
//! per page for each extraction). Exit status 1 if any page differs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crawler::fetch::decode_html;
use crawler::parse::dom::parse_page_with_dom;
use crawler::parse::{ParsedPage, parse_page};

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
            out.push(path);
        }
    }
}

/// Where two strings part: a few characters either side.
fn parting(a: &str, b: &str) -> String {
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map(|((i, _), _)| i)
        .unwrap_or(a.len().min(b.len()));
    let around = |s: &str| {
        let mut start = at.saturating_sub(60);
        while !s.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (at + 60).min(s.len());
        while !s.is_char_boundary(end) {
            end += 1;
        }
        s.get(start..end).unwrap_or_default().to_string()
    };
    format!("at byte {at}: stream {:?} | dom {:?}", around(a), around(b))
}

/// The fields of two extractions that differ, with where.
fn differences(stream: &ParsedPage, dom: &ParsedPage) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    let mut text = |field: &'static str, a: &str, b: &str| {
        if a != b {
            found.push((field, parting(a, b)));
        }
    };
    text("title", &stream.title, &dom.title);
    text("description", &stream.description, &dom.description);
    text("text", &stream.text, &dom.text);
    text(
        "headings",
        &stream.headings.join(" | "),
        &dom.headings.join(" | "),
    );
    let links = |page: &ParsedPage| {
        page.links
            .iter()
            .map(|l| {
                format!(
                    "{} [{}]{}",
                    l.url.as_str(),
                    l.anchor,
                    if l.nofollow { " nofollow" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    text("links", &links(stream), &links(dom));
    let sections = |page: &ParsedPage| {
        page.sections
            .iter()
            .map(|s| format!("{}@{} {}", s.anchor, s.start, s.heading_path.join(" > ")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    text("sections", &sections(stream), &sections(dom));
    let other = |page: &ParsedPage| {
        format!(
            "invalid_links={} canonical={:?} language={:?} robots={:?}",
            page.invalid_links,
            page.canonical.as_ref().map(|c| c.as_str()),
            page.language,
            page.meta_robots
        )
    };
    text("metadata", &other(stream), &other(dom));
    found
}

fn main() {
    let mut dirs: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if dirs.is_empty() {
        let sysroot = std::process::Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .expect("rustc");
        let sysroot = String::from_utf8(sysroot.stdout).expect("utf-8");
        dirs.push(PathBuf::from(sysroot.trim()).join("share/doc/rust/html"));
        dirs.push(PathBuf::from("/usr/share/doc/python3-doc/html"));
    }
    let mut files = Vec::new();
    for dir in &dirs {
        html_files(dir, &mut files);
    }
    let (mut stream_time, mut dom_time) = (Duration::ZERO, Duration::ZERO);
    let mut differing_pages = 0usize;
    let mut per_field: std::collections::BTreeMap<&str, usize> = Default::default();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else { continue };
        let html = decode_html(&bytes, None);
        let url = url::Url::from_file_path(path).expect("absolute path");
        let url = url::Url::parse(&url.as_str().replacen("file://", "http://docs.test", 1)).expect("url");
        let started = Instant::now();
        let stream = parse_page(&url, &html);
        stream_time += started.elapsed();
        let started = Instant::now();
        let dom = parse_page_with_dom(&url, &html);
        dom_time += started.elapsed();
        let found = differences(&stream, &dom);
        if !found.is_empty() {
            differing_pages += 1;
        }
        for (field, detail) in found {
            *per_field.entry(field).or_default() += 1;
            println!("{}\t{field}\t{detail}", path.display());
        }
    }
    let n = files.len().max(1) as f64;
    println!(
        "pages={} differing_pages={differing_pages} per_field={per_field:?} stream_ms={:.3} dom_ms={:.3}",
        files.len(),
        stream_time.as_secs_f64() * 1000.0 / n,
        dom_time.as_secs_f64() * 1000.0 / n,
    );
    if differing_pages > 0 {
        std::process::exit(1);
    }
}
