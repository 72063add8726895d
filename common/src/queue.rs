//! The seam between the crawler and the indexing services.
//!
//! The crawler publishes [`PageEvent`]s to a [`PageSink`]. Publishing waits
//! while the queue is full (back-pressure on the crawl) and returns a
//! [`Confirmation`] that resolves once the event is durable downstream: for
//! RabbitMQ when the broker confirms the persistent message, for the
//! in-process channel when the indexer has committed the page. Only then
//! does the crawler mark the URL done, so a crash at any point loses no page:
//! an unconfirmed URL is fetched again.

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
}
