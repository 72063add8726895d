//! The RabbitMQ transport against a real broker: `TRAWL_TEST_AMQP`, or the
//! local one (`scripts/setup` starts it). Every test names its exchanges and
//! queues with a prefix of its own and deletes them when it ends, panics
//! included.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amqp::lapin::options::{BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions};
use amqp::lapin::types::{AMQPValue, FieldTable};
use amqp::lapin::{BasicProperties, Channel, Connection, message::BasicGetMessage};
use amqp::{AmqpConfig, AmqpConsumer, AmqpSink, REASON_HEADER, Topology};
use common::message::{FORMAT_VERSION, Outlink};
use common::queue::{Acknowledge, PageSink};
use common::{DocId, NormalizedUrl, PageEvent, PageMessage};

fn broker_url() -> String {
    std::env::var("TRAWL_TEST_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

/// A configuration whose names no other test or run shares.
fn config(name: &str, shards: u32) -> AmqpConfig {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let mut config = AmqpConfig::new(
        broker_url(),
        format!("trawl-test-{name}-{}-{nanos}", std::process::id()),
    );
    config.shards = shards;
    config
}

/// Deletes the test's topology when dropped, also when the test panics.
struct TearDown(AmqpConfig);

impl Drop for TearDown {
    fn drop(&mut self) {
        let config = self.0.clone();
        // Drop cannot await, and the test's runtime may be unwinding: a
        // runtime of its own on a thread of its own.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (connection, channel) = raw_channel(&config).await;
                config.topology().delete(&channel).await.unwrap();
                connection.close(200, "done".into()).await.unwrap();
            });
        })
        .join();
        if deleted.is_err() && !std::thread::panicking() {
            panic!("could not delete the test's queues");
        }
    }
}

async fn raw_channel(config: &AmqpConfig) -> (Connection, Channel) {
    let connection = amqp::connect(config, "test")
        .await
        .expect("broker at TRAWL_TEST_AMQP");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    (connection, channel)
}

/// Guards against a hang (a lost message would wait forever); generous,
/// never a measure of speed.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing after two minutes"))
}

fn url(text: &str) -> NormalizedUrl {
    NormalizedUrl::parse(text).unwrap()
}

/// Upserts and removals, all with different document ids.
fn event(i: usize) -> PageEvent {
    let page_url = url(&format!("http://site{}.example/page/{i}", i % 3));
    if i % 5 == 4 {
        return PageEvent::Remove {
            doc_id: DocId::of(&page_url),
            url: page_url,
        };
    }
    PageEvent::Upsert(Box::new(PageMessage {
        url: page_url.clone(),
        canonical_url: page_url.clone(),
        fetched_at_ms: 1_700_000_000_000 + i as u64,
        status: 200,
        title: format!("Page {i}"),
        description: "a page".into(),
        headings: vec!["One".into(), "Two".into()],
        text: format!("the text of page {i} ").repeat(i % 7 + 1),
        outlinks: vec![Outlink {
            url: url("http://other.example/"),
            anchor: "other".into(),
        }],
        language: i.is_multiple_of(2).then(|| "en".to_string()),
        simhash: i as u64 * 31,
        content_hash: i as u64 * 17,
        sections: Vec::new(),
    }))
}

/// Receives from `queue` until every expected event was seen (duplicates
/// allowed), acknowledging each as the indexer does (applied, its content
/// let go, then acknowledged); checks each equals what was published.
async fn receive_all(config: &AmqpConfig, queue: &str, expected: &HashMap<DocId, PageEvent>) {
    let mut consumer = AmqpConsumer::new(config.clone(), queue).unwrap();
    let mut seen = HashMap::new();
    while seen.len() < expected.len() {
        let mut delivery = within(queue, consumer.recv()).await;
        let doc_id = delivery.event.doc_id();
        let published = expected
            .get(&doc_id)
            .unwrap_or_else(|| panic!("{queue} got {doc_id}, not published there"));
        assert_eq!(&delivery.event, published, "{queue} changed the event");
        seen.insert(doc_id, ());
        delivery.applied();
        assert_eq!(delivery.event.doc_id(), doc_id);
        if let PageEvent::Upsert(page) = &delivery.event {
            assert!(page.text.is_empty(), "{queue}: an applied page keeps no text");
        }
        delivery.ack().await.unwrap();
    }
    consumer.close().await;
}

fn header<'a>(message: &'a BasicGetMessage, name: &str) -> Option<&'a AMQPValue> {
    message.delivery.properties.headers().as_ref()?.inner().get(name)
}

fn text_header(message: &BasicGetMessage, name: &str) -> String {
    match header(message, name) {
        Some(AMQPValue::LongString(text)) => text.to_string(),
        other => panic!("header {name}: {other:?}"),
    }
}

async fn get(channel: &Channel, queue: &str) -> Option<BasicGetMessage> {
    channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_their_shard_and_the_docs_queue() {
    let config = config("routing", 2);
    let _tear_down = TearDown(config.clone());
    let topology = config.topology();
    let sink = AmqpSink::start(config.clone()).unwrap();

    let events: Vec<PageEvent> = (0..60).map(event).collect();
    let mut confirmations = Vec::new();
    for event in &events {
        confirmations.push(sink.publish(event.clone()).await.unwrap());
    }
    for confirmation in confirmations {
        within("confirm", confirmation).await.unwrap();
    }

    let by_id: HashMap<DocId, PageEvent> = events.iter().map(|e| (e.doc_id(), e.clone())).collect();
    assert_eq!(by_id.len(), events.len());
    for shard in 0..2 {
        let in_shard: HashMap<_, _> = by_id
            .iter()
            .filter(|(id, _)| topology.shard_of(**id) == shard)
            .map(|(id, event)| (*id, event.clone()))
            .collect();
        // Both shards get some of 60 ids, or the test proves little.
        assert!(!in_shard.is_empty());
        receive_all(&config, &topology.index_queue(shard), &in_shard).await;
    }
    receive_all(&config, &topology.docs_queue(), &by_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_persistent_and_carry_their_id_and_format() {
    let config = config("properties", 1);
    let _tear_down = TearDown(config.clone());
    let sink = AmqpSink::start(config.clone()).unwrap();
    let event = event(1);
    within("confirm", sink.publish(event.clone()).await.unwrap())
        .await
        .unwrap();

    let (connection, channel) = raw_channel(&config).await;
    let message = get(&channel, &config.topology().docs_queue()).await.unwrap();
    let properties = &message.delivery.properties;
    assert_eq!(*properties.delivery_mode(), Some(2));
    let doc_id = event.doc_id().to_string();
    assert_eq!(
        properties.message_id().as_ref().map(|id| id.as_str()),
        Some(doc_id.as_str())
    );
    assert_eq!(text_header(&message, amqp::DOC_ID_HEADER), doc_id);
    assert_eq!(
        header(&message, amqp::FORMAT_HEADER),
        Some(&AMQPValue::LongInt(FORMAT_VERSION.into()))
    );
    assert_eq!(PageEvent::decode(&message.delivery.data).unwrap(), event);
    connection.close(200, "done".into()).await.unwrap();
}

/// A removal that lacks its `url`: well-formed MessagePack, wrong shape.
#[derive(serde::Serialize)]
struct RemovalWithoutUrl {
    kind: &'static str,
    doc_id: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_messages_are_dead_lettered_with_the_reason() {
    let config = config("dead", 1);
    let _tear_down = TearDown(config.clone());
    let topology = config.topology();
    let (connection, channel) = raw_channel(&config).await;
    topology.declare(&channel).await.unwrap();

    let mut unknown_version = event(2).encode();
    unknown_version[0] = 9;
    let mut missing_field = vec![FORMAT_VERSION];
    let removal = RemovalWithoutUrl {
        kind: "remove",
        doc_id: 7,
    };
    rmp_serde::encode::write_named(&mut missing_field, &removal).unwrap();
    let bad: [(&[u8], &str); 4] = [
        (&[FORMAT_VERSION, 0xc1, 0xff, 0x00], "malformed message"),
        (&unknown_version, "unknown message format version 9"),
        (&missing_field, "missing field `url`"),
        (&[], "empty message"),
    ];
    let valid = [event(3), event(4)];
    let bodies = bad
        .iter()
        .map(|(body, _)| body.to_vec())
        .chain(valid.iter().map(PageEvent::encode));
    for body in bodies {
        let confirm = channel
            .basic_publish(
                topology.exchange().into(),
                Topology::routing_key(0).into(),
                BasicPublishOptions::default(),
                &body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        assert!(confirm.await.unwrap().is_ack());
    }

    // The consumer goes past the bad messages to the valid ones.
    let index_queue = topology.index_queue(0);
    let mut consumer = AmqpConsumer::new(config.clone(), index_queue.clone()).unwrap();
    let first = within("first valid event", consumer.recv()).await;
    assert_eq!(first.event, valid[0]);
    // A consumer may give up on an event it decoded, too.
    first.dead_letter("cannot index: test").await.unwrap();
    let second = within("second valid event", consumer.recv()).await;
    assert_eq!(second.event, valid[1]);
    second.ack().await.unwrap();
    consumer.close().await;

    // Dead-lettering is confirmed before the original is acknowledged, so
    // every dead letter is in place by now, in order.
    let dead_queue = topology.dead_queue();
    let expected_reasons = bad
        .iter()
        .map(|(_, reason)| *reason)
        .chain(["cannot index: test"]);
    let expected_bodies = bad
        .iter()
        .map(|(body, _)| body.to_vec())
        .chain([valid[0].encode()]);
    for (reason, body) in expected_reasons.zip(expected_bodies) {
        let message = get(&channel, &dead_queue).await.expect("a dead letter");
        let got = text_header(&message, REASON_HEADER);
        assert!(got.contains(reason), "reason {got:?} should name {reason:?}");
        assert_eq!(text_header(&message, amqp::QUEUE_HEADER), index_queue);
        assert_eq!(message.delivery.data, body);
    }
    assert!(get(&channel, &dead_queue).await.is_none());
    assert!(get(&channel, &index_queue).await.is_none());
    connection.close(200, "done".into()).await.unwrap();
}

// Once applied, a delivery keeps only its tag: dead-lettering it would
// move an empty copy and acknowledge the page away. It is refused, and the
// message comes back whole to the next consumer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_delivery_is_not_dead_lettered_and_comes_back_whole() {
    let config = config("released", 1);
    let _tear_down = TearDown(config.clone());
    let topology = config.topology();
    let sink = AmqpSink::start(config.clone()).unwrap();
    let sent = event(5);
    within("confirm", sink.publish(sent.clone()).await.unwrap())
        .await
        .unwrap();

    let index_queue = topology.index_queue(0);
    let mut consumer = AmqpConsumer::new(config.clone(), index_queue.clone()).unwrap();
    let mut delivery = within("the event", consumer.recv()).await;
    assert_eq!(delivery.event, sent);
    delivery.applied();
    assert_eq!(
        delivery.dead_letter("cannot index: test").await,
        Err(common::queue::QueueError::Released)
    );
    consumer.close().await;

    let mut consumer = AmqpConsumer::new(config.clone(), index_queue).unwrap();
    let again = within("the event again", consumer.recv()).await;
    assert!(again.redelivered());
    assert_eq!(again.event, sent);
    again.ack().await.unwrap();
    consumer.close().await;
    let (connection, channel) = raw_channel(&config).await;
    assert!(get(&channel, &topology.dead_queue()).await.is_none());
    connection.close(200, "done".into()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declaring_twice_is_harmless() {
    let config = config("declare", 3);
    let _tear_down = TearDown(config.clone());
    let topology = config.topology();
    let (connection, channel) = raw_channel(&config).await;
    topology.declare(&channel).await.unwrap();
    topology.declare(&channel).await.unwrap();
    // And from another connection, as the other side of the pipeline does.
    let (other_connection, other_channel) = raw_channel(&config).await;
    topology.declare(&other_channel).await.unwrap();

    // The channels are still open: no declaration conflicted.
    let queue = topology.index_queue(2);
    let mut options = amqp::lapin::options::QueueDeclareOptions::durable();
    options.passive = true;
    channel
        .queue_declare(queue.as_str().into(), options, FieldTable::default())
        .await
        .unwrap();
    connection.close(200, "done".into()).await.unwrap();
    other_connection.close(200, "done".into()).await.unwrap();
}

#[test]
fn configuration_is_checked_up_front() {
    let mut bad = config("config", 0);
    assert!(bad.validate().is_err());
    bad.shards = 1;
    assert!(bad.validate().is_ok());
    bad.url = "http://not amqp".into();
    assert!(bad.validate().is_err());
}

/// The Erlang process ids of the broker's connections named `name`.
fn connection_pids(name: &str) -> Vec<String> {
    let output = std::process::Command::new("rabbitmqctl")
        .args([
            "-q",
            "list_connections",
            "--no-table-headers",
            "pid",
            "client_properties",
        ])
        .output()
        .expect("rabbitmqctl, installed with rabbitmq-server");
    assert!(output.status.success(), "rabbitmqctl list_connections failed");
    let quoted = format!("\"{name}\"");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&quoted))
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

fn close_connection(pid: &str) {
    let status = std::process::Command::new("rabbitmqctl")
        .args(["-q", "close_connection", pid, "closed by a trawl test"])
        .status()
        .unwrap();
    assert!(status.success(), "rabbitmqctl close_connection failed");
}

// A connection the broker closes mid-stream must lose no event: the sink
// reconnects and publishes again what was not confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_survives_a_closed_connection() {
    let mut config = config("reconnect", 2);
    // Small, so that publishing waits on the broker while it reconnects.
    config.publish_buffer = 8;
    let _tear_down = TearDown(config.clone());
    let sink = AmqpSink::start(config.clone()).unwrap();
    let publisher_name = format!("{}.publisher", config.prefix);

    let events: Vec<PageEvent> = (0..300).map(event).collect();
    let mut confirmations = Vec::new();
    let mut closed = 0;
    for (i, event) in events.iter().enumerate() {
        confirmations.push(sink.publish(event.clone()).await.unwrap());
        if i == 100 || i == 200 {
            // The publisher is connected: 8 slots cannot hold 100 events.
            let pids = tokio::task::spawn_blocking({
                let name = publisher_name.clone();
                move || connection_pids(&name)
            })
            .await
            .unwrap();
            assert_eq!(pids.len(), 1, "one publisher connection");
            tokio::task::spawn_blocking(move || close_connection(&pids[0]))
                .await
                .unwrap();
            closed += 1;
        }
    }
    assert_eq!(closed, 2);
    for confirmation in confirmations {
        within("confirm after reconnecting", confirmation).await.unwrap();
    }

    let by_id: HashMap<DocId, PageEvent> = events.iter().map(|e| (e.doc_id(), e.clone())).collect();
    receive_all(&config, &config.topology().docs_queue(), &by_id).await;
}

// A consumer whose connection the broker closes reconnects, and what it had
// not acknowledged is delivered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_survives_a_closed_connection() {
    let mut config = config("consumer-reconnect", 1);
    config.prefetch = 10;
    let _tear_down = TearDown(config.clone());
    let topology = config.topology();
    let sink = AmqpSink::start(config.clone()).unwrap();
    let events: Vec<PageEvent> = (0..100).map(event).collect();
    let mut confirmations = Vec::new();
    for event in &events {
        confirmations.push(sink.publish(event.clone()).await.unwrap());
    }
    for confirmation in confirmations {
        within("confirm", confirmation).await.unwrap();
    }

    let queue = topology.index_queue(0);
    let consumer_name = format!("{}.consumer.index.0", config.prefix);
    let mut consumer = AmqpConsumer::new(config.clone(), queue.clone()).unwrap();
    let by_id: HashMap<DocId, PageEvent> = events.iter().map(|e| (e.doc_id(), e.clone())).collect();
    let mut seen = HashMap::new();
    let mut closed = false;
    while seen.len() < events.len() {
        let delivery = within(&queue, consumer.recv()).await;
        let doc_id = delivery.event.doc_id();
        assert_eq!(by_id.get(&doc_id), Some(&delivery.event));
        seen.insert(doc_id, ());
        // Acknowledging on the closed connection fails; the broker delivers
        // the event again.
        let _ = delivery.ack().await;
        if seen.len() == 50 && !closed {
            let name = consumer_name.clone();
            let pids = tokio::task::spawn_blocking(move || connection_pids(&name))
                .await
                .unwrap();
            assert_eq!(pids.len(), 1, "one consumer connection");
            tokio::task::spawn_blocking(move || close_connection(&pids[0]))
                .await
                .unwrap();
            closed = true;
        }
    }
    assert!(closed);
    consumer.close().await;
}
