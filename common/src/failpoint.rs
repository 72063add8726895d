//! Crash points for fault-injection tests.
//!
//! Code calls [`hit`] right after each step that makes something durable
//! (a `crawled_links` write, a publish, a broker confirm, an index commit,
//! an acknowledgement, a frontier completion). Normally that is one atomic
//! load. With `TRAWL_FAILPOINTS=NAME=N` in the environment (several
//! separated by commas), the process kills itself with SIGKILL at the Nth
//! time it passes `NAME`: no destructor runs, no buffer is flushed, exactly
//! as `kill -9` at that instant would leave it. Tests pick the point and N
//! (at random too) and then check that a resumed run loses nothing.
//!
//! The names in use are listed in [`POINTS`], so a test can refuse a name
//! that no code passes.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every crash point, in the order a page meets them.
pub const POINTS: &[&str] = &[
    // crawler: the page's record is in crawled_links, nothing published yet
    "crawl.recorded",
    // crawler: the page is published, its confirmation not yet received
    "crawl.published",
    // crawler: the page is durable downstream, its link not yet completed
    "crawl.confirmed",
    // crawler: the link is completed in the frontier
    "crawl.completed",
    // indexer: events applied to the store, not yet committed
    "index.applied",
    // indexer: committed, not yet acknowledged
    "index.committed",
    // indexer: committed and acknowledged
    "index.acknowledged",
];

struct Armed {
    /// Point name -> the hit that kills.
    kill_at: HashMap<String, u64>,
    hits: HashMap<&'static str, AtomicU64>,
}

static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

fn armed() -> &'static Option<Armed> {
    ARMED.get_or_init(|| {
        let spec = std::env::var("TRAWL_FAILPOINTS").ok()?;
        let mut kill_at = HashMap::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, n) = item.split_once('=').unwrap_or((item, "1"));
            let n: u64 = n.trim().parse().unwrap_or_else(|_| {
                panic!("TRAWL_FAILPOINTS: {item:?} is not NAME=N");
            });
            assert!(
                POINTS.contains(&name.trim()),
                "TRAWL_FAILPOINTS: no crash point {name:?}; the points are {POINTS:?}"
            );
            kill_at.insert(name.trim().to_string(), n.max(1));
        }
        let hits = POINTS.iter().map(|&p| (p, AtomicU64::new(0))).collect();
        Some(Armed { kill_at, hits })
    })
}

/// Passes the crash point `name`: kills the process if the environment
/// armed it for this hit.
pub fn hit(name: &'static str) {
    let Some(armed) = armed() else { return };
    let Some(&kill_at) = armed.kill_at.get(name) else {
        return;
    };
    let count = armed
        .hits
        .get(name)
        .map_or(0, |hits| hits.fetch_add(1, Ordering::SeqCst) + 1);
    if count == kill_at {
        eprintln!("failpoint {name}: hit {count}, killing the process");
        // SAFETY: raise only sends a signal to this process.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
