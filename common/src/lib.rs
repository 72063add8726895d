//! The shared vocabulary of trawl: what a URL, a host, a document id, a page
//! message and a skip reason are, and the seam through which pages travel
//! from the crawler to the indexing services.
//!
//! It does no network and no disk I/O: it is data and logic, shared by the
//! crawler, the indexer and the query API. The transport that carries pages
//! between machines, RabbitMQ, is the `amqp` crate.
//!
//! - [`failpoint`]: crash points that fault-injection tests arm.
//! - [`metrics`]: the Prometheus recorder and the name of every metric.
//! - [`normalize`]: URL normalization, the one place a URL becomes a
//!   [`NormalizedUrl`]; where a URL's life begins.
//! - [`model`]: newtypes for hosts and document ids.
//! - [`message`]: the versioned page messages and their encoding.
//! - [`queue`]: the seam's traits ([`queue::PageSink`] for publishers,
//!   [`queue::DeliverySource`] and [`queue::Acknowledge`] for consumers) and
//!   its in-process channel.
//! - [`reason`]: why a URL was not fetched or not indexed.
//! - [`signature`]: simhash and content hash of a page's text.

pub mod failpoint;
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
