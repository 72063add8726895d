//! The shared vocabulary of trawl: what a URL, a host, a document id, a page
//! message and a skip reason are, and the seam through which pages travel
//! from the crawler to the indexing services.
//!
//! It also owns the one transport both sides of that seam speak, RabbitMQ
//! ([`amqp`]): the crawler publishes with it, the indexing services consume
//! with it, and the topology and wire conventions live in one place. Apart
//! from that module, this crate does no network and no disk I/O; everything
//! else in it is pure data and logic.
//!
//! - [`amqp`]: the RabbitMQ topology, sink (publisher confirms, reconnection)
//!   and consumer (dead-lettering with a reason).
//! - [`metrics`]: the Prometheus recorder and the name of every metric.
//! - [`normalize`]: URL normalization, the one place a URL becomes a
//!   [`NormalizedUrl`]; where a URL's life begins.
//! - [`model`]: newtypes for hosts and document ids.
//! - [`message`]: the versioned page messages and their encoding.
//! - [`queue`]: the [`queue::PageSink`] trait and its in-process channel.
//! - [`reason`]: why a URL was not fetched or not indexed.
//! - [`signature`]: simhash and content hash of a page's text.

pub mod amqp;
pub mod message;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod queue;
pub mod reason;
pub mod signature;

pub use message::{PageEvent, PageMessage};
pub use model::{DocId, HostKey};
pub use normalize::{NormalizedUrl, UrlError};
pub use reason::SkipReason;
