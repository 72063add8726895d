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

pub mod cli;
pub mod commands;
pub mod config;
pub mod data_dir;
pub mod operations;
pub mod signal;

pub use data_dir::DataDir;
