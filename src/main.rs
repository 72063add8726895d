//! `trawl`: parses the command line (with the config file and environment
//! under it: `trawl::config`) and hands over to `trawl::cli`, which
//! validates the settings and runs the subcommand. Everything else lives
//! in the workspace's crates.

// A crawl allocates a page's body, text and message on one thread and
// frees them on another; jemalloc does that with about a tenth less CPU per
// page than glibc's allocator on the Rust-docs crawl (BENCHMARKS.md §1;
// mimalloc did worse).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read before `main` as a C string (`const char *`:
/// hence a reference to an array, a thin pointer). Its defaults keep what
/// a crawl frees for 10 s, over 4 arenas per core; 2 arenas (the cores of
/// a crawler worker, ARCHITECTURE.md) whose freed pages its own thread
/// returns after 200 ms took about 30 MB off a crawl's peak RSS for the
/// same CPU (BENCHMARKS.md §13). `_RJEM_MALLOC_CONF` in the environment
/// still overrides them.
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static JEMALLOC_SETTINGS: &[u8; 69] =
    b"narenas:2,background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0\0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    trawl::raise_open_file_limit();
    let loaded = trawl::config::parse::<trawl::cli::Cli>();
    trawl::cli::run(loaded).await
}
