//! Near-duplicate detection, measured (BENCHMARKS.md, "Near-duplicates").
//!
//!   cargo bench --workspace --bench near_duplicates -- eval [PAIRS [DOCS]]
//!
//! Precision and recall over labelled page pairs of the local Rust docs
//! (bench/near-duplicates/pairs.tsv, made by make-pairs.py), for shingles
//! of 1 to 5 words: each page is extracted as the crawler extracts it, and a
//! pair is called a duplicate when its texts are equal or their simhashes
//! are within 3 bits.
//!
//!   cargo bench --workspace --bench near_duplicates -- lookups COUNT [BLOCKS]
//!
//! Lookup latency of `crawled_links`' permuted tables holding COUNT random
//! signatures (BLOCKS blocks, default 5): p50 and p99 over 20,000 lookups,
//! half near a stored signature, half anywhere.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::signature::{content_hash, lead_simhash, text_simhash, text_simhash_with};
use crawler::crawled::{CrawledLinks, DEFAULT_BLOCKS, FreshnessConfig, MAX_DISTANCE};
use crawler::parse::parse_page;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("eval") => eval(args.get(1), args.get(2)),
        Some("lookups") => {
            let count = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
            let blocks = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_BLOCKS);
            lookups(count, blocks);
        }
        _ => {
            eval(None, None);
            lookups(1_000_000, DEFAULT_BLOCKS);
        }
    }
}

fn docs_root() -> PathBuf {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc");
    PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim()).join("share/doc/rust/html")
}

/// The text the crawler would sign for a page on disk.
fn page_text(root: &Path, page: &str) -> String {
    let path = root.join(page);
    let html = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let url = url::Url::parse(&format!("http://docs.test/{page}")).unwrap();
    parse_page(&url, &html).text
}

fn eval(pairs: Option<&String>, docs: Option<&String>) {
    let pairs_path = pairs.map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/near-duplicates/pairs.tsv"),
        PathBuf::from,
    );
    let root = docs.map_or_else(docs_root, PathBuf::from);
    let pairs: Vec<(bool, String, String)> = std::fs::read_to_string(&pairs_path)
        .expect("pairs file")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let label = fields.next().unwrap() == "duplicate";
            (
                label,
                fields.next().unwrap().into(),
                fields.next().unwrap().into(),
            )
        })
        .collect();
    let texts: Vec<(String, String)> = pairs
        .iter()
        .map(|(_, a, b)| (page_text(&root, a), page_text(&root, b)))
        .collect();
    let duplicates = pairs.iter().filter(|(label, ..)| *label).count();
    println!(
        "{} pairs ({duplicates} duplicate, {} distinct) from {}",
        pairs.len(),
        pairs.len() - duplicates,
        pairs_path.display()
    );
    println!("shingle  TP  FP  FN  TN  precision  recall   distance p50 (dup / distinct)");
    for shingle in 1..=5 {
        let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
        let mut dup_distances = Vec::new();
        let mut distinct_distances = Vec::new();
        let mut false_positives = Vec::new();
        for ((label, a, b), (text_a, text_b)) in pairs.iter().zip(&texts) {
            let distance =
                (text_simhash_with(text_a, shingle) ^ text_simhash_with(text_b, shingle)).count_ones();
            let called = content_hash(text_a) == content_hash(text_b) || distance <= MAX_DISTANCE;
            if *label {
                dup_distances.push(distance);
            } else {
                distinct_distances.push(distance);
            }
            match (label, called) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    false_positives.push(format!("{a} ~ {b} ({distance} bits)"));
                }
                (true, false) => fn_ += 1,
                (false, false) => tn += 1,
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        println!(
            "{shingle:>7} {tp:>3} {fp:>3} {fn_:>3} {tn:>3}  {precision:>9.3}  {recall:>6.3}   {} / {}",
            median(&mut dup_distances),
            median(&mut distinct_distances)
        );
        for pair in false_positives {
            println!("          false positive: {pair}");
        }
    }
    eval_with_leads(&pairs, &texts);
}

/// The detector as the crawler runs it: equal texts, or simhashes within 3
/// bits whose leads are within `lead_limit` bits.
fn eval_with_leads(pairs: &[(bool, String, String)], texts: &[(String, String)]) {
    println!("with the lead check (2-word shingles):");
    println!("lead bits  TP  FP  FN  TN  precision  recall");
    for lead_limit in [4, 8, 12, 16, 64] {
        let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
        for ((label, ..), (a, b)) in pairs.iter().zip(texts) {
            let distance = (text_simhash(a) ^ text_simhash(b)).count_ones();
            let lead = (lead_simhash(a) ^ lead_simhash(b)).count_ones();
            let called =
                content_hash(a) == content_hash(b) || (distance <= MAX_DISTANCE && lead <= lead_limit);
            match (label, called) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => tn += 1,
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        println!("{lead_limit:>9} {tp:>3} {fp:>3} {fn_:>3} {tn:>3}  {precision:>9.3}  {recall:>6.3}");
    }
    let mut dup_leads: Vec<u32> = pairs
        .iter()
        .zip(texts)
        .filter(|((label, ..), _)| *label)
        .map(|(_, (a, b))| (lead_simhash(a) ^ lead_simhash(b)).count_ones())
        .collect();
    let mut distinct_leads: Vec<u32> = pairs
        .iter()
        .zip(texts)
        .filter(|((label, ..), _)| !*label)
        .map(|(_, (a, b))| (lead_simhash(a) ^ lead_simhash(b)).count_ones())
        .collect();
    println!(
        "lead distance p50: duplicates {}, distinct {}",
        median(&mut dup_leads),
        median(&mut distinct_leads)
    );
}

fn median(values: &mut [u32]) -> u32 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

fn lookups(count: u64, blocks: usize) {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let store = CrawledLinks::open_with_blocks(dir.path(), FreshnessConfig::default(), blocks).unwrap();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = Instant::now();
    let mut sample = Vec::new();
    let batch_size = 100_000;
    let mut id = 0u64;
    while id < count {
        let batch: Vec<(u64, u64)> = (id..(id + batch_size).min(count)).map(|i| (i, next())).collect();
        if sample.len() < 10_000 {
            sample.extend(batch.iter().step_by(37).map(|&(_, simhash)| simhash));
        }
        store.index_signatures(0, &batch).unwrap();
        id += batch_size;
    }
    store.compact();
    let fill = started.elapsed();
    println!(
        "{count} signatures, {blocks} blocks: filled and compacted in {:.1} s ({:.0} signatures/s)",
        fill.as_secs_f64(),
        count as f64 / fill.as_secs_f64()
    );

    let mut times = Vec::new();
    let mut found = 0;
    for round in 0..20_000usize {
        let query = if round % 2 == 0 {
            let mut query = sample[round / 2 % sample.len()];
            for _ in 0..next() % 4 {
                query ^= 1 << (next() % 64);
            }
            query
        } else {
            next()
        };
        let started = Instant::now();
        if store.nearest_id(0, query, u64::MAX).unwrap().is_some() {
            found += 1;
        }
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "lookups: p50 {} p99 {} max {} ({found} of 20000 found a signature within {MAX_DISTANCE} bits)",
        micros(at(0.5)),
        micros(at(0.99)),
        micros(*times.last().unwrap())
    );
    println!("store on disk: {:.0} MB", dir_size(dir.path()) as f64 / 1e6);
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.metadata().map_or(0, |m| m.len()))
                .sum()
        })
        .unwrap_or(0)
}
