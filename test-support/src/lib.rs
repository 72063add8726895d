//! What trawl's integration tests share, so that no helper is written
//! twice: the fixture web site, running the `trawl` binary and its daemons,
//! and the checks that a data directory or an API answers as after a clean
//! crawl. Test code only: nothing here ships.
//!
//! - [`fixture`]: a generated site on 127.0.0.1:0 with validators and 304s.
//! - [`daemons`]: the `trawl` binary, one-off or as daemons to kill and restart.
//! - [`broker`]: RabbitMQ names of a test's own, deleted at its end.
//! - [`redis_server`]: Redis prefixes of a test's own, and private servers.
//! - [`searchable`]: what a clean crawl of the fixture makes searchable,
//!   checked word by word.
//! - [`rng`]: a seeded generator for randomised fault points.
//! - [`warc`]: WARC files as warcio reads them.

pub mod broker;
pub mod daemons;
pub mod fixture;
pub mod redis_server;
pub mod rng;
pub mod searchable;
pub mod warc;
