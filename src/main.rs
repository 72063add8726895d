//! `trawl`: parses the command line (with the config file and environment
//! under it: `trawl::config`) and hands over to `trawl::cli`, which
//! validates the settings and runs the subcommand. Everything else lives
//! in the workspace's crates.

// Parsing a page allocates and frees its whole DOM, across parse threads;
// jemalloc does that with about a tenth less CPU per page than glibc's
// allocator on the Rust-docs crawl (BENCHMARKS.md; mimalloc did worse).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    trawl::raise_open_file_limit();
    let loaded = trawl::config::parse::<trawl::cli::Cli>();
    trawl::cli::run(loaded).await
}
