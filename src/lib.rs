//! The `trawl` binary's library: it wires the crates together for each
//! subcommand. It is the only code that sees the crawler, the indexer and
//! the query API at once; all the logic lives in those crates.
//!
//! - [`cli`]: the subcommands and their flags, each validated into the
//!   configuration that runs ([`cli::Job`]), and running it.
//! - [`config`]: settings from a TOML file, the environment and flags, in
//!   that order of precedence, for every subcommand; `--print-config`.
//! - [`commands`]: the subcommands wired: `crawl`, `serve`, `run`, `seed`,
//!   `rebuild`, `index`, `docs`.
//! - [`data_dir`]: where each store lives under `--data-dir`.
//! - [`operations`]: `/metrics`, `/readyz`, `/healthz` of every daemon.
//! - [`signal`]: the shutdown signal (Ctrl-C, SIGTERM).
//! - [`raise_open_file_limit`]: the process's limit on open files, at start.

pub mod cli;
pub mod commands;
pub mod config;
pub mod data_dir;
pub mod operations;
pub mod signal;

pub use data_dir::DataDir;

/// Raises the soft limit on open files to the hard one: a crawl of many
/// hosts holds a socket per connection besides RocksDB's and tantivy's
/// files, and running out mid-crawl fails whatever opens a file next (the
/// index writer included). Nothing changes where the call is refused.
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
