//! The RabbitMQ transport of the page pipeline, used by both sides: the
//! crawler publishes through [`AmqpSink`] (a [`PageSink`]), the indexing
//! services read through [`AmqpConsumer`].
//!
//! Topology ([`Topology`], declared by both sides, idempotently):
//!
//! ```text
//!                         shard.0 +--> {prefix}.index.0 --+
//!  publish --> {prefix}.pages ----+--> {prefix}.index.1 --+-- x-dead-letter-exchange
//!              (direct)   shard.1 |    ...                |        |
//!                         every   +--> {prefix}.docs -----+        v
//!                         shard key                     {prefix}.dead (fanout) --> {prefix}.dead
//! ```
//!
//! The docs queue is bound to the one direct exchange with every shard key,
//! rather than to a second (fanout) exchange: one publish then reaches both
//! consumer groups, and its one publisher confirm comes only once every
//! queue it was routed to has it, so "confirmed" means durable for the index
//! shard *and* the document service. A second exchange would need a second
//! publish and a second confirm, and a window where only one of them holds
//! the page. The price: the docs queue's bindings follow the shard count;
//! [`Topology::declare`] binds every current key, and a binding left from a
//! larger shard count matches nothing anyone publishes.
//!
//! A document-service replica adds a queue of its own, `{prefix}.docs.{name}`,
//! bound like the docs queue ([`Topology::docs_replica_queue`] says why and
//! what it costs).
//!
//! Every queue is a durable quorum queue (replicated, and the broker's
//! default for data that must not be lost); messages are persistent and
//! confirmed. A work queue dead-letters to `{prefix}.dead` what the broker
//! gives up on (a message redelivered [`DELIVERY_LIMIT`] times, i.e. one that
//! keeps killing its consumer), and the consumer sends there what it cannot
//! decode, with the reason in the [`REASON_HEADER`].
//!
//! For operations: a sink and a consumer tell whether they are connected
//! ([`BrokerStatus`], a daemon's readiness), the consumer counts what it
//! dead-letters, and [`sample_queue_depth`] keeps a gauge of the messages
//! waiting in a queue ([`common::metrics`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Event, ExchangeKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tracing::{debug, info, warn};

use common::message::{FORMAT_VERSION, PageEvent};
use common::metrics as names;
use common::model::DocId;
use common::queue::{Acknowledge, Confirmation, DeliverySource, PageSink, QueueError};

/// The client library, re-exported so that every crate talks to the broker
/// with the same version (tests and tools use it for raw access).
pub use lapin;

/// Why a message was dead-lettered by a trawl consumer (a UTF-8 string).
pub const REASON_HEADER: &str = "x-trawl-reason";
/// The queue a trawl consumer dead-lettered the message from.
pub const QUEUE_HEADER: &str = "x-trawl-queue";
/// The document id of a published event, as its 16 hex digits (also the
/// message id).
pub const DOC_ID_HEADER: &str = "x-trawl-doc-id";
/// The [`FORMAT_VERSION`] the body was encoded with.
pub const FORMAT_HEADER: &str = "x-trawl-format";

/// Deliveries of one message after which the broker dead-letters it
/// instead of handing it out again: a page that crashes its consumer must
/// not crash it forever. High enough that reconnections (which redeliver
/// whatever was unacknowledged) never get near it.
pub const DELIVERY_LIMIT: i64 = 20;

/// AMQP delivery mode of messages written to disk by the broker.
const PERSISTENT: u8 = 2;
const CONTENT_TYPE: &str = "application/vnd.trawl.page-event";

/// First wait after a failed connection; doubled up to [`RECONNECT_MAX`].
const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// The longest wait between two connection attempts: a broker back after
/// an outage is found within this.
const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// How often [`sample_queue_depth`] asks the broker: often enough to see a
/// backlog grow, rarely enough to cost the broker nothing.
pub const QUEUE_DEPTH_EVERY: Duration = Duration::from_secs(5);

/// Queue and exchange names must fit an AMQP short string (255 bytes)
/// with the longest suffix (`.index.4294967295`).
const MAX_PREFIX_BYTES: usize = 200;
/// Replica names fit beside the longest prefix (`.docs.` and this).
const MAX_REPLICA_BYTES: usize = 40;

/// Where the broker is and how the pipeline uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost` (vhost `/` is `%2f`).
    pub url: String,
    /// Starts every exchange and queue name, so that crawls (and tests)
    /// sharing a broker do not meet.
    pub prefix: String,
    /// Index shards: a page goes to shard `doc_id % shards`.
    pub shards: u32,
    /// Unacknowledged deliveries a consumer may hold (`basic.qos`).
    pub prefetch: u16,
    /// Unconfirmed events a sink may have in flight; `publish` waits beyond.
    pub publish_buffer: usize,
}

impl AmqpConfig {
    pub const DEFAULT_SHARDS: u32 = 1;
    /// Enough for an indexer to fill a commit batch between acknowledgements
    /// without holding a large share of a queue.
    pub const DEFAULT_PREFETCH: u16 = 1000;
    pub const DEFAULT_PUBLISH_BUFFER: usize = 1024;

    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> AmqpConfig {
        AmqpConfig {
            url: url.into(),
            prefix: prefix.into(),
            shards: Self::DEFAULT_SHARDS,
            prefetch: Self::DEFAULT_PREFETCH,
            publish_buffer: Self::DEFAULT_PUBLISH_BUFFER,
        }
    }

    pub fn topology(&self) -> Topology {
        Topology {
            prefix: self.prefix.clone(),
            shards: self.shards,
        }
    }

    /// Checked once when a sink or consumer starts: a wrong URL or an empty
    /// setting fails at once instead of retrying forever.
    pub fn validate(&self) -> Result<(), QueueError> {
        let invalid = |what: String| Err(QueueError::Config(what));
        if let Err(error) = self.url.parse::<lapin::uri::AMQPUri>() {
            return invalid(format!("AMQP URL: {error}"));
        }
        if self.prefix.is_empty() || self.prefix.len() > MAX_PREFIX_BYTES {
            return invalid(format!("prefix must have 1 to {MAX_PREFIX_BYTES} bytes"));
        }
        if self.shards == 0 || self.prefetch == 0 || self.publish_buffer == 0 {
            return invalid("shards, prefetch and publish buffer must be positive".to_string());
        }
        Ok(())
    }
}

/// The names of the pipeline's exchanges and queues, and their declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
    shards: u32,
}

impl Topology {
    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// The direct exchange every page is published to.
    pub fn exchange(&self) -> String {
        format!("{}.pages", self.prefix)
    }

    /// The queue of index shard `shard`.
    pub fn index_queue(&self, shard: u32) -> String {
        format!("{}.index.{shard}", self.prefix)
    }

    /// The document service's queue: every page.
    pub fn docs_queue(&self) -> String {
        format!("{}.docs", self.prefix)
    }

    /// Where the work queues dead-letter to (fanout: every dead message,
    /// whatever its routing key, lands in [`Topology::dead_queue`]).
    pub fn dead_exchange(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    pub fn routing_key(shard: u32) -> String {
        format!("shard.{shard}")
    }

    pub fn shard_of(&self, doc_id: DocId) -> u32 {
        // shards is a u32, so the remainder is one.
        (doc_id.0 % u64::from(self.shards)) as u32
    }

    /// Declares every exchange, queue and binding. Declaring what exists
    /// with the same settings is a no-op, so both sides call this whenever
    /// they (re)connect, in any order.
    pub async fn declare(&self, channel: &Channel) -> Result<(), QueueError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let no_arguments = FieldTable::default;

        let dead = self.dead_exchange();
        channel
            .exchange_declare(
                dead.as_str().into(),
                ExchangeKind::Fanout,
                durable,
                no_arguments(),
            )
            .await
            .map_err(broker)?;
        let dead_queue = self.dead_queue();
        channel
            .queue_declare(
                dead_queue.as_str().into(),
                QueueDeclareOptions::durable(),
                quorum_arguments(),
            )
            .await
            .map_err(broker)?;
        channel
            .queue_bind(
                dead_queue.as_str().into(),
                dead.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                no_arguments(),
            )
            .await
            .map_err(broker)?;

        let exchange = self.exchange();
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Direct,
                durable,
                no_arguments(),
            )
            .await
            .map_err(broker)?;
        self.declare_work_queue(channel, &self.docs_queue(), 0..self.shards)
            .await?;
        for shard in 0..self.shards {
            self.declare_work_queue(channel, &self.index_queue(shard), shard..shard + 1)
                .await?;
        }
        Ok(())
    }

    /// Declares a quorum queue that dead-letters to the dead exchange, bound
    /// to the pages exchange with the routing keys of `shards`.
    async fn declare_work_queue(
        &self,
        channel: &Channel,
        queue: &str,
        shards: std::ops::Range<u32>,
    ) -> Result<(), QueueError> {
        let mut arguments = quorum_arguments();
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.dead_exchange().into()),
        );
        arguments.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(DELIVERY_LIMIT));
        channel
            .queue_declare(queue.into(), QueueDeclareOptions::durable(), arguments)
            .await
            .map_err(broker)?;
        let exchange = self.exchange();
        for shard in shards {
            channel
                .queue_bind(
                    queue.into(),
                    exchange.as_str().into(),
                    Self::routing_key(shard).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(broker)?;
        }
        Ok(())
    }

    /// The queue of the document-service replica named `replica`: every
    /// page, like [`Topology::docs_queue`], for a replica that keeps a
    /// docstore of its own.
    ///
    /// Why a queue per replica: replicas sharing the docs queue would split
    /// the pages between them (a queue hands each message to one
    /// consumer), and each must hold every page. The price: the broker
    /// routes a page only to the queues that exist when it is published, so
    /// a replica receives the pages published after its queue was first
    /// declared ([`Topology::declare_docs_replica`], which its consumer
    /// does), and not the ones before. The publisher declares only the
    /// unnamed docs queue, so that queue alone never misses a page.
    pub fn docs_replica_queue(&self, replica: &str) -> String {
        format!("{}.docs.{replica}", self.prefix)
    }

    /// Declares the queue of a document-service replica (see
    /// [`Topology::docs_replica_queue`]), bound with every shard key.
    pub async fn declare_docs_replica(&self, channel: &Channel, replica: &str) -> Result<(), QueueError> {
        self.declare_work_queue(channel, &self.docs_replica_queue(replica), 0..self.shards)
            .await
    }

    /// Deletes a replica's queue, with its messages.
    pub async fn delete_docs_replica(&self, channel: &Channel, replica: &str) -> Result<(), QueueError> {
        let queue = self.docs_replica_queue(replica);
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .map_err(broker)?;
        Ok(())
    }

    /// Deletes every queue (with its messages) and exchange: for tests and
    /// for tearing a crawl down.
    pub async fn delete(&self, channel: &Channel) -> Result<(), QueueError> {
        let mut queues: Vec<String> = (0..self.shards).map(|shard| self.index_queue(shard)).collect();
        queues.push(self.docs_queue());
        queues.push(self.dead_queue());
        for queue in queues {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(broker)?;
        }
        for exchange in [self.exchange(), self.dead_exchange()] {
            channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .map_err(broker)?;
        }
        Ok(())
    }
}

fn quorum_arguments() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    arguments
}

/// A broker error as the seam's error.
fn broker(error: lapin::Error) -> QueueError {
    QueueError::Broker(error.to_string())
}

/// Opens a connection named `{prefix}.{role}` (the name shows in the
/// broker's connection list).
pub async fn connect(config: &AmqpConfig, role: &str) -> Result<Connection, QueueError> {
    let name = format!("{}.{role}", config.prefix);
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    Connection::connect(&config.url, properties).await.map_err(broker)
}

/// Closes a connection that may already be dead, without waiting on it.
async fn close_quietly(connection: Connection) {
    let close = connection.close(200, "trawl closing".into());
    let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
}

/// Whether a sink or a consumer has a working session with the broker
/// right now: what a daemon's `/readyz` reports. Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct BrokerStatus(Arc<AtomicBool>);

impl BrokerStatus {
    pub fn is_connected(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, connected: bool) {
        self.0.store(connected, Ordering::Relaxed);
    }
}

/// Keeps the [`names::INDEXER_QUEUE_READY`] gauge at the number of
/// messages ready in `queue` (waiting for a consumer: the consumer's lag),
/// asking the broker every [`QUEUE_DEPTH_EVERY`] with a passive declare,
/// until `shutdown` resolves. It starts once `consumer` (the queue's
/// consumer, which declares it) has connected: a passive declare of a
/// queue that does not exist fails, closing its channel. Its own
/// connection, for the same reason. A broker out of reach is tried again,
/// quietly (the consumer says so already).
pub async fn sample_queue_depth(
    config: AmqpConfig,
    queue: String,
    consumer: BrokerStatus,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let connected = async {
        while !consumer.is_connected() {
            tokio::time::sleep(RECONNECT_MIN).await;
        }
    };
    tokio::select! {
        () = &mut shutdown => return,
        () = connected => {}
    }
    let mut backoff = Backoff::new();
    loop {
        let sampled = async {
            let connection = connect(&config, "queue-depth").await?;
            let result = async {
                let channel = connection.create_channel().await.map_err(broker)?;
                let passive = QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                };
                loop {
                    let declared = channel
                        .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                        .await
                        .map_err(broker)?;
                    metrics::gauge!(names::INDEXER_QUEUE_READY).set(declared.message_count() as f64);
                    tokio::time::sleep(QUEUE_DEPTH_EVERY).await;
                }
            }
            .await;
            close_quietly(connection).await;
            result
        };
        tokio::select! {
            () = &mut shutdown => return,
            result = sampled => {
                let result: Result<(), QueueError> = result;
                if let Err(error) = result {
                    debug!(%error, %queue, "cannot sample the queue's depth");
                }
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = backoff.wait() => {}
        }
    }
}

/// Capped exponential back-off between connection attempts.
struct Backoff {
    delay: Duration,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff { delay: RECONNECT_MIN }
    }

    fn reset(&mut self) {
        self.delay = RECONNECT_MIN;
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(RECONNECT_MAX);
    }
}

/// The broker's answer to a publish, as the publisher sees it.
fn verdict(answer: lapin::Confirmation) -> Result<(), QueueError> {
    match answer {
        lapin::Confirmation::Ack(None) => Ok(()),
        // Published with `mandatory`: no queue was bound to take it.
        lapin::Confirmation::Ack(Some(returned)) => Err(QueueError::Broker(format!(
            "unroutable message: {}",
            returned.reply_text
        ))),
        lapin::Confirmation::Nack(_) => Err(QueueError::Rejected("the broker refused the message".into())),
        lapin::Confirmation::NotRequested => Err(QueueError::Broker("publisher confirms are off".into())),
    }
}

fn mandatory() -> BasicPublishOptions {
    BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    }
}

/// A [`PageSink`] on RabbitMQ.
///
/// One background task owns the connection. `publish` hands it the encoded
/// event and returns at once, unless `publish_buffer` events are already
/// unconfirmed: then it waits (back-pressure on the crawl, also while the
/// broker is unreachable). The task keeps every event until the broker has
/// answered for it; when the connection drops it reconnects with capped
/// exponential back-off and publishes again, in order, every event whose
/// answer was lost. Nothing is dropped; an event may arrive twice, which the
/// consumers' upsert by document id absorbs.
///
/// Dropping every clone of the sink lets the task finish: it waits for the
/// answers still due, then closes the connection.
#[derive(Clone)]
pub struct AmqpSink {
    to_publisher: mpsc::UnboundedSender<Unconfirmed>,
    /// One permit per event between `publish` and the broker's answer.
    buffer: Arc<Semaphore>,
    topology: Topology,
    status: BrokerStatus,
}

/// An event the broker has not answered for yet.
struct Unconfirmed {
    body: Vec<u8>,
    doc_id: DocId,
    shard: u32,
    answer_tx: oneshot::Sender<Result<(), QueueError>>,
    _slot: OwnedSemaphorePermit,
}

impl AmqpSink {
    /// Starts the publisher task on the current tokio runtime. Connecting
    /// happens in the background: a broker that is down delays publishing,
    /// it does not fail it.
    pub fn start(config: AmqpConfig) -> Result<AmqpSink, QueueError> {
        config.validate()?;
        let (to_publisher, from_sinks) = mpsc::unbounded_channel();
        let status = BrokerStatus::default();
        let sink = AmqpSink {
            to_publisher,
            buffer: Arc::new(Semaphore::new(config.publish_buffer)),
            topology: config.topology(),
            status: status.clone(),
        };
        tokio::spawn(Publisher::new(config, status).run(from_sinks));
        Ok(sink)
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Whether the publisher is connected (and has declared the topology).
    pub fn status(&self) -> BrokerStatus {
        self.status.clone()
    }
}

#[async_trait]
impl PageSink for AmqpSink {
    async fn publish(&self, event: PageEvent) -> Result<Confirmation, QueueError> {
        let slot = Arc::clone(&self.buffer)
            .acquire_owned()
            .await
            .map_err(|_| QueueError::Closed)?;
        let doc_id = event.doc_id();
        let (answer_tx, answer_rx) = oneshot::channel();
        let unconfirmed = Unconfirmed {
            body: event.encode(),
            doc_id,
            shard: self.topology.shard_of(doc_id),
            answer_tx,
            _slot: slot,
        };
        self.to_publisher
            .send(unconfirmed)
            .map_err(|_| QueueError::Closed)?;
        Ok(Box::pin(async move {
            // The task ended without answering: the runtime is shutting down.
            answer_rx.await.unwrap_or(Err(QueueError::Closed))
        }))
    }
}

/// The state of the sink's background task that outlives a connection.
struct Publisher {
    config: AmqpConfig,
    topology: Topology,
    /// Every event received and not yet answered for, by arrival: what a
    /// new connection publishes (again) first.
    unconfirmed: BTreeMap<u64, Unconfirmed>,
    next_seq: u64,
    /// False once every sink is dropped.
    sinks_open: bool,
    backoff: Backoff,
    status: BrokerStatus,
}

impl Publisher {
    fn new(config: AmqpConfig, status: BrokerStatus) -> Publisher {
        Publisher {
            topology: config.topology(),
            config,
            unconfirmed: BTreeMap::new(),
            next_seq: 0,
            sinks_open: true,
            backoff: Backoff::new(),
            status,
        }
    }

    async fn run(mut self, mut from_sinks: mpsc::UnboundedReceiver<Unconfirmed>) {
        while self.sinks_open || !self.unconfirmed.is_empty() {
            let connection = match connect(&self.config, "publisher").await {
                Ok(connection) => connection,
                Err(error) => {
                    warn!(%error, retry_in_ms = self.backoff.delay.as_millis(), "cannot reach the broker");
                    self.backoff.wait().await;
                    continue;
                }
            };
            let result = self.session(&connection, &mut from_sinks).await;
            self.status.set(false);
            close_quietly(connection).await;
            if let Err(error) = result {
                warn!(
                    %error,
                    unconfirmed = self.unconfirmed.len(),
                    retry_in_ms = self.backoff.delay.as_millis(),
                    "publisher lost its connection"
                );
                self.backoff.wait().await;
            }
        }
        debug!("publisher done");
    }

    /// Publishes on one connection until every sink is gone and every
    /// event answered for (`Ok`), or until the connection fails (`Err`,
    /// leaving what is unanswered in `self.unconfirmed`).
    async fn session(
        &mut self,
        connection: &Connection,
        from_sinks: &mut mpsc::UnboundedReceiver<Unconfirmed>,
    ) -> Result<(), QueueError> {
        // Listen before anything can fail, so that no error is missed.
        let mut events = Box::pin(connection.events_listener());
        let channel = connection.create_channel().await.map_err(broker)?;
        self.topology.declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(broker)?;
        self.backoff.reset();
        self.status.set(true);
        info!(republishing = self.unconfirmed.len(), "publisher connected");

        let mut answers = FuturesUnordered::new();
        for (&seq, unconfirmed) in &self.unconfirmed {
            answers.push(publish_event(&channel, &self.topology, seq, unconfirmed).await?);
        }
        loop {
            if !self.sinks_open && answers.is_empty() {
                return Ok(());
            }
            tokio::select! {
                received = from_sinks.recv(), if self.sinks_open => match received {
                    Some(unconfirmed) => {
                        let seq = self.next_seq;
                        self.next_seq += 1;
                        let unconfirmed = self.unconfirmed.entry(seq).or_insert(unconfirmed);
                        answers.push(publish_event(&channel, &self.topology, seq, unconfirmed).await?);
                    }
                    None => self.sinks_open = false,
                },
                Some((seq, answer)) = answers.next(), if !answers.is_empty() => {
                    // An error here is the channel or connection failing: the
                    // event stays unconfirmed and goes out again.
                    let answer = answer.map_err(broker)?;
                    if let Some(unconfirmed) = self.unconfirmed.remove(&seq) {
                        let _ = unconfirmed.answer_tx.send(verdict(answer));
                    }
                }
                event = events.next() => match event {
                    Some(Event::Error(error)) => return Err(broker(error)),
                    Some(Event::ConnectionBlocked(reason)) => warn!(%reason, "broker blocks publishing"),
                    Some(Event::ConnectionUnblocked) => info!("broker unblocks publishing"),
                    Some(_) => {}
                    None => return Err(QueueError::Broker("connection ended".into())),
                },
            }
        }
    }
}

/// Publishes one event; the returned future resolves with the broker's
/// answer.
async fn publish_event(
    channel: &Channel,
    topology: &Topology,
    seq: u64,
    unconfirmed: &Unconfirmed,
) -> Result<impl Future<Output = (u64, lapin::Result<lapin::Confirmation>)> + use<>, QueueError> {
    let doc_id: ShortString = unconfirmed.doc_id.to_string().into();
    let mut headers = FieldTable::default();
    headers.insert(
        DOC_ID_HEADER.into(),
        AMQPValue::LongString(doc_id.as_str().into()),
    );
    headers.insert(FORMAT_HEADER.into(), AMQPValue::LongInt(FORMAT_VERSION.into()));
    let properties = BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_content_type(CONTENT_TYPE.into())
        .with_message_id(doc_id)
        .with_headers(headers);
    let answer = channel
        .basic_publish(
            topology.exchange().into(),
            Topology::routing_key(unconfirmed.shard).into(),
            mandatory(),
            &unconfirmed.body,
            properties,
        )
        .await
        .map_err(broker)?;
    Ok(async move { (seq, answer.await) })
}

/// Reads one queue: decodes each message into a [`PageEvent`], and
/// dead-letters (with the reason) what does not decode, so that a bad
/// message never blocks the queue nor is dropped unseen.
///
/// It connects on the first [`AmqpConsumer::recv`] and reconnects with
/// capped exponential back-off whenever the connection drops; what was
/// delivered and not acknowledged then is delivered again by the broker.
pub struct AmqpConsumer {
    config: AmqpConfig,
    topology: Topology,
    queue: String,
    /// The document-service replica whose queue this is, declared by the
    /// consumer itself (the publisher does not know it).
    replica: Option<String>,
    session: Option<ConsumerSession>,
    backoff: Backoff,
    status: BrokerStatus,
}

struct ConsumerSession {
    connection: Connection,
    channel: Channel,
    deliveries: lapin::Consumer,
}

impl AmqpConsumer {
    /// A consumer of `queue`, one of the [`Topology`]'s queues.
    pub fn new(config: AmqpConfig, queue: impl Into<String>) -> Result<AmqpConsumer, QueueError> {
        config.validate()?;
        Ok(AmqpConsumer {
            topology: config.topology(),
            config,
            queue: queue.into(),
            replica: None,
            session: None,
            backoff: Backoff::new(),
            status: BrokerStatus::default(),
        })
    }

    /// A consumer of the queue of document-service replica `replica`
    /// ([`Topology::docs_replica_queue`]), which it declares. `replica` is
    /// 1 to 40 letters, digits, `-` or `_`.
    pub fn docs_replica(config: AmqpConfig, replica: &str) -> Result<AmqpConsumer, QueueError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if replica.is_empty() || replica.len() > MAX_REPLICA_BYTES || !replica.chars().all(valid) {
            return Err(QueueError::Config(format!(
                "replica name {replica:?}: 1 to {MAX_REPLICA_BYTES} letters, digits, '-' or '_'"
            )));
        }
        let queue = config.topology().docs_replica_queue(replica);
        let mut consumer = AmqpConsumer::new(config, queue)?;
        consumer.replica = Some(replica.to_string());
        Ok(consumer)
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Whether the consumer is connected and consuming its queue (it
    /// connects on its first [`AmqpConsumer::recv`]).
    pub fn status(&self) -> BrokerStatus {
        self.status.clone()
    }

    /// The next decoded event. Waits (reconnecting as needed) until there
    /// is one.
    ///
    /// Dropping this future while it dead-letters a malformed message
    /// leaves that message unacknowledged until the connection closes,
    /// when the broker delivers it again.
    pub async fn recv(&mut self) -> AmqpDelivery {
        loop {
            let session = match &mut self.session {
                Some(session) => session,
                None => match self.open().await {
                    Ok(session) => {
                        self.status.set(true);
                        self.session.insert(session)
                    }
                    Err(error) => {
                        warn!(
                            %error,
                            queue = %self.queue,
                            retry_in_ms = self.backoff.delay.as_millis(),
                            "consumer cannot reach the broker"
                        );
                        self.backoff.wait().await;
                        continue;
                    }
                },
            };
            let delivery = match session.deliveries.next().await {
                Some(Ok(delivery)) => delivery,
                lost => {
                    let error = match lost {
                        Some(Err(error)) => error.to_string(),
                        _ => "consumer cancelled by the broker".to_string(),
                    };
                    warn!(
                        %error,
                        queue = %self.queue,
                        retry_in_ms = self.backoff.delay.as_millis(),
                        "consumer lost its connection"
                    );
                    self.reconnect().await;
                    continue;
                }
            };
            // Only a delivery shows the session works: resetting on connect
            // alone would spin on a queue that cancels every consumer.
            self.backoff.reset();
            let channel = session.channel.clone();
            match PageEvent::decode(&delivery.data) {
                Ok(event) => {
                    return AmqpDelivery {
                        event,
                        delivery,
                        channel,
                        dead_exchange: self.topology.dead_exchange(),
                        queue: self.queue.clone(),
                        released: false,
                    };
                }
                Err(error) => {
                    let reason = error.to_string();
                    warn!(queue = %self.queue, %reason, "dead-lettering an undecodable message");
                    let dead_exchange = self.topology.dead_exchange();
                    let dead = dead_letter(
                        &channel,
                        &dead_exchange,
                        &self.queue,
                        &delivery,
                        &reason,
                        error.kind(),
                    );
                    if let Err(error) = dead.await {
                        warn!(%error, queue = %self.queue, "cannot dead-letter; reconnecting");
                        self.reconnect().await;
                    }
                }
            }
        }
    }

    async fn open(&self) -> Result<ConsumerSession, QueueError> {
        static CONSUMERS: AtomicU64 = AtomicU64::new(0);
        let queue = self.queue.strip_prefix(&format!("{}.", self.config.prefix));
        let role = format!("consumer.{}", queue.unwrap_or(&self.queue));
        let connection = connect(&self.config, &role).await?;
        let channel = connection.create_channel().await.map_err(broker)?;
        self.topology.declare(&channel).await?;
        if let Some(replica) = &self.replica {
            self.topology.declare_docs_replica(&channel, replica).await?;
        }
        channel
            .basic_qos(self.config.prefetch, BasicQosOptions::default())
            .await
            .map_err(broker)?;
        // For dead-lettering, which must be confirmed before the original
        // is acknowledged.
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(broker)?;
        let tag = format!(
            "trawl-{}-{}",
            std::process::id(),
            CONSUMERS.fetch_add(1, Ordering::Relaxed)
        );
        let deliveries = channel
            .basic_consume(
                self.queue.as_str().into(),
                tag.into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(broker)?;
        info!(queue = %self.queue, prefetch = self.config.prefetch, "consumer connected");
        Ok(ConsumerSession {
            connection,
            channel,
            deliveries,
        })
    }

    async fn reconnect(&mut self) {
        self.status.set(false);
        if let Some(session) = self.session.take() {
            close_quietly(session.connection).await;
        }
        self.backoff.wait().await;
    }

    /// Closes the connection; what is unacknowledged goes back to the queue.
    pub async fn close(mut self) {
        self.status.set(false);
        if let Some(session) = self.session.take() {
            close_quietly(session.connection).await;
        }
    }
}

/// One decoded event from an [`AmqpConsumer`], to be acknowledged once the
/// consumer has made it durable, or dead-lettered if it never can.
pub struct AmqpDelivery {
    pub event: PageEvent,
    delivery: Delivery,
    channel: Channel,
    dead_exchange: String,
    queue: String,
    /// Set by [`Acknowledge::applied`]: the message's bytes are gone.
    released: bool,
}

impl AmqpDelivery {
    /// True when the broker delivered this message before (to a consumer
    /// that did not acknowledge it).
    pub fn redelivered(&self) -> bool {
        self.delivery.redelivered
    }

    /// The event is durable: the broker may forget it. Fails only when the
    /// connection is gone, in which case the broker delivers it again.
    pub async fn ack(self) -> Result<(), QueueError> {
        self.delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .map_err(broker)?;
        Ok(())
    }

    /// Acknowledges every delivery of `batch`, all at once: the
    /// acknowledgements go out back to back instead of each waiting for the
    /// connection's task to send the one before (which cost a consumer
    /// about a third of its pages per second). Not one `basic.ack` with
    /// `multiple`: that would also acknowledge a message that the consumer
    /// was still dead-lettering when its `recv` was dropped. Fails only
    /// when a connection is gone, in which case the broker delivers again
    /// what it did not acknowledge.
    pub async fn ack_all(batch: Vec<AmqpDelivery>) -> Result<(), QueueError> {
        let acks = batch
            .iter()
            .map(|delivery| delivery.delivery.acker.ack(BasicAckOptions::default()));
        for answer in futures::future::join_all(acks).await {
            answer.map_err(broker)?;
        }
        Ok(())
    }

    /// The event can never be processed: moves it to the dead-letter queue
    /// with `reason` in its [`REASON_HEADER`] (counted as `unprocessable`).
    /// Refused once the event was applied: its bytes are gone, and a copy
    /// without them would lose the page ([`QueueError::Released`]; the
    /// message stays unacknowledged, and the broker delivers it again).
    pub async fn dead_letter(self, reason: &str) -> Result<(), QueueError> {
        if self.released {
            return Err(QueueError::Released);
        }
        dead_letter(
            &self.channel,
            &self.dead_exchange,
            &self.queue,
            &self.delivery,
            reason,
            "unprocessable",
        )
        .await
    }
}

/// Moves `delivery` to the dead-letter exchange: publishes a copy there,
/// waits for the broker's confirm, then acknowledges the original.
///
/// Why not `basic.reject` without requeue, which dead-letters through the
/// queue's `x-dead-letter-exchange`: the broker then adds only its own
/// `x-death` header (reason "rejected"), and a client cannot attach why. The
/// copy carries [`REASON_HEADER`] and [`QUEUE_HEADER`]. Acknowledging only
/// after the confirm means a crash in between leaves the message in both
/// queues, never in neither. Counted under `kind`, the reason without its
/// details.
async fn dead_letter(
    channel: &Channel,
    dead_exchange: &str,
    queue: &str,
    delivery: &Delivery,
    reason: &str,
    kind: &'static str,
) -> Result<(), QueueError> {
    let mut headers = delivery.properties.headers().clone().unwrap_or_default();
    headers.insert(REASON_HEADER.into(), AMQPValue::LongString(reason.into()));
    headers.insert(QUEUE_HEADER.into(), AMQPValue::LongString(queue.into()));
    let properties = delivery
        .properties
        .clone()
        .with_delivery_mode(PERSISTENT)
        .with_headers(headers);
    let answer = channel
        .basic_publish(
            dead_exchange.into(),
            delivery.routing_key.clone(),
            mandatory(),
            &delivery.data,
            properties,
        )
        .await
        .map_err(broker)?
        .await
        .map_err(broker)?;
    verdict(answer)?;
    delivery
        .acker
        .ack(BasicAckOptions::default())
        .await
        .map_err(broker)?;
    metrics::counter!(names::INDEXER_MESSAGES_DEAD_LETTERED, "reason" => kind).increment(1);
    Ok(())
}
impl DeliverySource for AmqpConsumer {
    type Delivery = AmqpDelivery;

    async fn recv(&mut self) -> Option<AmqpDelivery> {
        // A broker queue never ends; the loop stops on its shutdown signal.
        Some(AmqpConsumer::recv(self).await)
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        AmqpConsumer::close(self)
    }
}

impl Acknowledge for AmqpDelivery {
    fn event(&self) -> &PageEvent {
        &self.event
    }

    /// The message's bytes and the page's content go; its delivery tag
    /// stays for the acknowledgement.
    fn applied(&mut self) {
        self.event.drop_content();
        self.delivery.data = Vec::new();
        self.released = true;
    }

    fn ack(self) -> impl Future<Output = Result<(), QueueError>> + Send {
        AmqpDelivery::ack(self)
    }

    fn ack_all(batch: Vec<AmqpDelivery>) -> impl Future<Output = Result<(), QueueError>> + Send {
        AmqpDelivery::ack_all(batch)
    }
}
