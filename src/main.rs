//! `trawl`: parses the command line (with the config file and environment
//! under it: `trawl::config`) and hands over to `trawl::cli`, which
//! validates the settings and runs the subcommand. Everything else lives
//! in the workspace's crates.

// Parsing a page allocates and frees its whole DOM, across parse threads;
// jemalloc does that with about a tenth less CPU per page than glibc's
// allocator on the Rust-docs crawl (BENCHMARKS.md; mimalloc did worse).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read before `main`. Its defaults keep what a
/// crawl frees for 10 s and spread threads over 4 arenas per core, which
/// a crawl's pages, allocated on one thread and freed on another, left
/// as resident garbage: one arena per core, freed pages returned within
/// 200 ms by jemalloc's own thread took about 30 MB off a crawl's peak
/// RSS for the same CPU (BENCHMARKS.md §13). `_RJEM_MALLOC_CONF` in the
/// environment still overrides them.
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static JEMALLOC_SETTINGS: &[u8] =
    b"narenas:2,background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0\0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    trawl::raise_open_file_limit();
    let loaded = trawl::config::parse::<trawl::cli::Cli>();
    trawl::cli::run(loaded).await
}
