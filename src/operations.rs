//! What every daemon serves for its operators beside its own API:
//! `/metrics` (Prometheus text, [`common::metrics`]), `/readyz` (whether it
//! is of use yet: its store or frontier open, its broker connected, not
//! stopping) and, where its API has none, `/healthz` (the process answers).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use amqp::BrokerStatus;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

/// The Prometheus text format's content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `/readyz` checks. Clones share the state: the daemon sets it as it
/// starts and stops, the endpoint reads it.
#[derive(Clone, Default)]
pub struct Readiness {
    /// The frontier (a crawler) or the store (a consumer) is open.
    opened: Arc<AtomicBool>,
    /// The broker connection the daemon depends on, if it has one.
    broker: Arc<OnceLock<BrokerStatus>>,
    /// Shutdown began: a load balancer should send nothing more.
    stopping: Arc<AtomicBool>,
}

impl Readiness {
    pub fn opened(&self) {
        self.opened.store(true, Ordering::Relaxed);
    }

    /// From now on, ready only while `broker` is connected.
    pub fn depends_on(&self, broker: BrokerStatus) {
        // Set once per daemon; a second call would name the same broker.
        let _ = self.broker.set(broker);
    }

    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.report().0
    }

    fn report(&self) -> (bool, serde_json::Value) {
        let opened = self.opened.load(Ordering::Relaxed);
        let broker = self.broker.get().map(BrokerStatus::is_connected);
        let stopping = self.stopping.load(Ordering::Relaxed);
        let ready = opened && broker != Some(false) && !stopping;
        let report = json!({
            "ready": ready,
            "opened": opened,
            "broker_connected": broker,
            "stopping": stopping,
        });
        (ready, report)
    }
}

/// `/metrics` alone: for a server whose router answers the rest.
pub fn metrics_router() -> Router {
    // Installs the recorder before the daemon records anything.
    common::metrics::handle();
    Router::new().route("/metrics", get(metrics))
}

/// `/metrics` and `/readyz`, to merge into a service's router (which has
/// its own `/healthz`).
pub fn router(readiness: Readiness) -> Router {
    metrics_router().merge(Router::new().route("/readyz", get(readyz)).with_state(readiness))
}

/// `/metrics`, `/readyz` and `/healthz`: all a crawler serves.
pub fn router_with_health(readiness: Readiness) -> Router {
    router(readiness).route("/healthz", get(|| async { "ok" }))
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
        common::metrics::render(),
    )
}

async fn readyz(State(readiness): State<Readiness>) -> impl IntoResponse {
    let (ready, report) = readiness.report();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_once_open_and_connected_until_stopping() {
        let readiness = Readiness::default();
        assert!(!readiness.is_ready(), "nothing open yet");
        readiness.opened();
        assert!(readiness.is_ready(), "no broker to wait for");
        let broker = BrokerStatus::default();
        readiness.depends_on(broker.clone());
        assert!(!readiness.is_ready(), "the broker is not connected");
        readiness.stopping();
        assert!(!readiness.is_ready());
    }
}
