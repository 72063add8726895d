//! The seam between the crawler and the indexing services.
//!
//! The crawler publishes [`PageEvent`]s to a [`PageSink`]. Publishing waits
//! while the queue is full (back-pressure on the crawl) and returns a
//! [`Confirmation`] that resolves once the event is durable downstream: for
//! RabbitMQ when the broker confirms the persistent message, for the
//! in-process channel when the indexer has committed the page. Only then
//! does the crawler mark the URL done, so a crash at any point loses no page:
//! an unconfirmed URL is fetched again.

use std::future::Future;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::message::PageEvent;

/// Resolves when the published event is durable, or with the reason it
/// never will be.
pub type Confirmation = BoxFuture<'static, Result<(), QueueError>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("page queue is closed")]
    Closed,
    #[error("page rejected by consumer: {0}")]
    Rejected(String),
    #[error("broker error: {0}")]
    Broker(String),
    #[error("invalid queue configuration: {0}")]
    Config(String),
    /// A delivery whose bytes were let go once its event was applied
    /// ([`Acknowledge::applied`]) has nothing left to move elsewhere.
    #[error("delivery already applied: its content is released")]
    Released,
}

#[async_trait::async_trait]
pub trait PageSink: Send + Sync {
    async fn publish(&self, event: PageEvent) -> Result<Confirmation, QueueError>;
}

/// An in-process page queue with room for `capacity` events in flight.
pub fn page_channel(capacity: usize) -> (ChannelSink, ChannelSource) {
    let (tx, rx) = mpsc::channel(capacity);
    (ChannelSink { tx }, ChannelSource { rx })
}

/// The crawler's end of [`page_channel`].
#[derive(Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<Delivery>,
}

#[async_trait::async_trait]
impl PageSink for ChannelSink {
    async fn publish(&self, event: PageEvent) -> Result<Confirmation, QueueError> {
        let (confirm_tx, confirm_rx) = oneshot::channel();
        let delivery = Delivery { event, confirm_tx };
        self.tx.send(delivery).await.map_err(|_| QueueError::Closed)?;
        Ok(Box::pin(async move {
            match confirm_rx.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(reason)) => Err(QueueError::Rejected(reason)),
                // The consumer dropped the delivery without answering: it
                // stopped before making the page durable.
                Err(_) => Err(QueueError::Closed),
            }
        }))
    }
}

/// The indexer's end of [`page_channel`].
pub struct ChannelSource {
    rx: mpsc::Receiver<Delivery>,
}

impl ChannelSource {
    /// The next event; `None` once every sink is dropped and the queue is empty.
    pub async fn recv(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// The next event if one is waiting, without blocking.
    pub fn try_recv(&mut self) -> Option<Delivery> {
        self.rx.try_recv().ok()
    }
}

/// One event handed to a consumer, to be acknowledged once durable.
pub struct Delivery {
    pub event: PageEvent,
    confirm_tx: oneshot::Sender<Result<(), String>>,
}

impl Delivery {
    /// The event is durable: the publisher may forget it.
    pub fn ack(self) {
        let _ = self.confirm_tx.send(Ok(()));
    }

    /// The event can never be processed.
    pub fn reject(self, reason: String) {
        let _ = self.confirm_tx.send(Err(reason));
    }
}

/// Where a consumer's events come from.
pub trait DeliverySource: Send {
    type Delivery: Acknowledge;

    /// The next delivery; `None` once the source has ended for good (every
    /// publisher of a channel gone). The loop drops this future when a
    /// commit falls due, so it must lose nothing when dropped.
    fn recv(&mut self) -> impl Future<Output = Option<Self::Delivery>> + Send;

    /// Lets go of the source once the loop is done: whatever was delivered
    /// and not acknowledged goes back to the queue.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// One event taken from a [`DeliverySource`].
pub trait Acknowledge: Send {
    /// The event; after [`Acknowledge::applied`], without its content
    /// ([`PageEvent::drop_content`]).
    fn event(&self) -> &PageEvent;

    /// The store has applied the event: its content (and the message's
    /// bytes) goes, and what waits for the commit is only what
    /// acknowledging it takes. A batch is up to 2,000 pages or 4 MB of
    /// their text (`indexer::service::CommitPolicy`): their texts held
    /// until the commit were a crawl's largest memory. After this the
    /// delivery is only acknowledged: never applied again, never
    /// dead-lettered (both would read the content that is gone; an AMQP
    /// delivery refuses with [`QueueError::Released`]).
    fn applied(&mut self) {}

    /// The event is durable: its publisher (or the broker) may forget it.
    /// An error means the acknowledgement was lost, and the event will come
    /// again.
    fn ack(self) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Acknowledges a batch: every delivery received since the last batch,
    /// in order. One by one, unless the source knows a faster way.
    fn ack_all(batch: Vec<Self>) -> impl Future<Output = Result<(), QueueError>> + Send
    where
        Self: Sized,
    {
        async move {
            let mut result = Ok(());
            for delivery in batch {
                if let Err(error) = delivery.ack().await {
                    result = Err(error);
                }
            }
            result
        }
    }
}

impl DeliverySource for ChannelSource {
    type Delivery = Delivery;

    fn recv(&mut self) -> impl Future<Output = Option<Delivery>> + Send {
        ChannelSource::recv(self)
    }

    async fn close(self) {}
}

impl Acknowledge for Delivery {
    fn event(&self) -> &PageEvent {
        &self.event
    }

    fn applied(&mut self) {
        self.event.drop_content();
    }

    async fn ack(self) -> Result<(), QueueError> {
        Delivery::ack(self);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocId;
    use crate::normalize::NormalizedUrl;

    fn removal() -> PageEvent {
        PageEvent::Remove {
            doc_id: DocId(1),
            url: NormalizedUrl::parse("http://a.example/").unwrap(),
        }
    }

    #[tokio::test]
    async fn confirmation_waits_for_the_consumer() {
        let (sink, mut source) = page_channel(4);
        let confirmation = sink.publish(removal()).await.unwrap();
        let delivery = source.recv().await.unwrap();
        delivery.ack();
        assert_eq!(confirmation.await, Ok(()));

        let confirmation = sink.publish(removal()).await.unwrap();
        source.recv().await.unwrap().reject("bad".into());
        assert_eq!(confirmation.await, Err(QueueError::Rejected("bad".into())));

        let confirmation = sink.publish(removal()).await.unwrap();
        drop(source.recv().await.unwrap());
        assert_eq!(confirmation.await, Err(QueueError::Closed));
    }

    // A batch waits for its commit holding its deliveries: once applied,
    // they keep what names the page and what confirms it, not its text.
    #[tokio::test]
    async fn an_applied_delivery_keeps_the_page_s_identity_and_its_confirmation() {
        let url = NormalizedUrl::parse("http://a.example/page").unwrap();
        let page = crate::message::PageMessage {
            url: url.clone(),
            canonical_url: NormalizedUrl::parse("http://a.example/canonical").unwrap(),
            fetched_at_ms: 1,
            status: 200,
            title: "Title".into(),
            description: "about".into(),
            headings: vec!["Heading".into()],
            text: "the page's text ".repeat(1000),
            outlinks: vec![crate::message::Outlink {
                url: url.clone(),
                anchor: "self".into(),
            }],
            language: Some("en".into()),
            simhash: 42,
            content_hash: 7,
            sections: vec![crate::message::Section {
                anchor: "part".into(),
                heading_path: vec!["Heading".into()],
                start: 0,
            }],
        };
        let doc_id = page.doc_id();
        let (sink, mut source) = page_channel(4);
        let confirmation = sink.publish(PageEvent::Upsert(Box::new(page))).await.unwrap();
        let mut delivery = source.recv().await.unwrap();
        delivery.applied();
        let PageEvent::Upsert(kept) = delivery.event() else {
            panic!("an upsert stays an upsert");
        };
        assert_eq!((kept.doc_id(), &kept.url, kept.status), (doc_id, &url, 200));
        assert!(kept.text.is_empty() && kept.title.is_empty() && kept.description.is_empty());
        assert!(kept.headings.is_empty() && kept.outlinks.is_empty() && kept.sections.is_empty());
        assert_eq!(kept.text.capacity(), 0, "the text's memory is freed");
        Acknowledge::ack(delivery).await.unwrap();
        assert_eq!(confirmation.await, Ok(()));
    }
}
