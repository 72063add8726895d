//! RabbitMQ for tests: names of their own on the shared broker, removed
//! when the test ends (also when it fails).

use std::time::{SystemTime, UNIX_EPOCH};

use amqp::AmqpConfig;

pub fn broker_url() -> String {
    std::env::var("TRAWL_TEST_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

/// A configuration with `shards` index shards whose names no other test
/// or run shares.
pub fn unique_broker(name: &str, shards: u32) -> AmqpConfig {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let mut config = AmqpConfig::new(
        broker_url(),
        format!("trawl-test-{name}-{}-{nanos}", std::process::id()),
    );
    config.shards = shards;
    config
}

/// Deletes a test's exchanges and queues when dropped, and the queues of
/// the document-service replicas it names.
pub struct TearDown {
    config: AmqpConfig,
    replicas: Vec<String>,
}

impl TearDown {
    pub fn new(config: &AmqpConfig) -> TearDown {
        TearDown {
            config: config.clone(),
            replicas: Vec::new(),
        }
    }

    pub fn with_replica(mut self, name: &str) -> TearDown {
        self.replicas.push(name.to_string());
        self
    }
}

impl Drop for TearDown {
    fn drop(&mut self) {
        let config = self.config.clone();
        let replicas = self.replicas.clone();
        // Drop cannot await, and the test's runtime may be unwinding: a
        // runtime of its own on a thread of its own.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let connection = amqp::connect(&config, "test teardown").await.unwrap();
                let channel = connection.create_channel().await.unwrap();
                let topology = config.topology();
                for replica in &replicas {
                    topology.delete_docs_replica(&channel, replica).await.unwrap();
                }
                topology.delete(&channel).await.unwrap();
                connection.close(200, "done".into()).await.unwrap();
            });
        })
        .join();
        if deleted.is_err() && !std::thread::panicking() {
            panic!("could not delete the test's queues");
        }
    }
}
