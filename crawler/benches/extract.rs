//! What the crawler does to a page once fetched, without the network: parse
//! (scraper), extract, sign (simhash), over real pages on disk (the Rust
//! docs rustup installed). CPU time per page, per stage.
//!
//!   cargo bench --workspace --bench extract [-- DIR [MAX_PAGES]]
//!
//! DIR defaults to the std and book docs; MAX_PAGES to 3000.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::signature::{content_hash, text_simhash};
use crawler::parse::parse_page;

fn html_files(dir: &Path, out: &mut Vec<PathBuf>, max: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if out.len() >= max {
            return;
        }
        if path.is_dir() {
            html_files(&path, out, max);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let max: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(3000);
    let mut files = Vec::new();
    match args.first() {
        Some(dir) => html_files(Path::new(dir), &mut files, max),
        None => {
            let sysroot = std::process::Command::new("rustc")
                .args(["--print", "sysroot"])
                .output()
                .unwrap();
            let docs =
                PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim()).join("share/doc/rust/html");
            html_files(&docs.join("book"), &mut files, max);
            html_files(&docs.join("std"), &mut files, max);
        }
    }
    let pages: Vec<(url::Url, String)> = files
        .iter()
        .map(|path| {
            let url = url::Url::parse(&format!("http://docs.test/{}", path.display())).unwrap();
            (url, std::fs::read_to_string(path).unwrap_or_default())
        })
        .collect();
    let bytes: usize = pages.iter().map(|(_, html)| html.len()).sum();

    let (mut parse, mut sign, mut links, mut text) = (Duration::ZERO, Duration::ZERO, 0usize, 0usize);
    let mut dom_only = Duration::ZERO;
    for (url, html) in &pages {
        // scraper's parse alone: the floor of what extraction can cost.
        let started = Instant::now();
        drop(std::hint::black_box(scraper::Html::parse_document(html)));
        dom_only += started.elapsed();
        let started = Instant::now();
        let page = parse_page(url, html);
        parse += started.elapsed();
        let started = Instant::now();
        std::hint::black_box((text_simhash(&page.text), content_hash(&page.text)));
        sign += started.elapsed();
        links += page.links.len();
        text += page.text.len();
    }
    let n = pages.len() as f64;
    println!(
        "pages={} html_kb_avg={:.0} links_avg={:.0} text_kb_avg={:.1} scraper_parse_ms={:.3} parse_and_extract_ms={:.3} sign_ms={:.3}",
        pages.len(),
        bytes as f64 / n / 1024.0,
        links as f64 / n,
        text as f64 / n / 1024.0,
        dom_only.as_secs_f64() * 1000.0 / n,
        parse.as_secs_f64() * 1000.0 / n,
        sign.as_secs_f64() * 1000.0 / n,
    );
}
