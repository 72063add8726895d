//! The web's HTTP side: one server on every address of the web (same
//! port), routing by the `Host` header to the host's pages, waiting each
//! host's latency before it answers, and writing every request to the log.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode, header};

use crate::model::{HostKind, PagePath, Web};

/// One request the web answered.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub host: u32,
    pub path: PagePath,
    /// Since the web started.
    pub arrived: Duration,
    pub answered: Duration,
    pub status: u16,
}

/// Everything the web served, and what it could not route.
pub struct Log {
    pub started: Instant,
    pub requests: Mutex<Vec<RequestRecord>>,
    /// Requests for a host or path the web does not have.
    pub unknown: AtomicU64,
    /// The first of them, for reading.
    pub unknown_examples: Mutex<Vec<String>>,
}

pub struct State {
    pub web: Arc<Web>,
    pub port: u16,
    pub log: Arc<Log>,
    /// Page requests per host so far (throttling hosts answer every 8th with 429 or 503).
    page_requests: Vec<AtomicU64>,
}

/// Serves the web on every address of its slots, on `port` (0: the first
/// address picks one, the others take the same). Returns the port.
pub async fn serve(web: Arc<Web>, port: u16, log: Arc<Log>) -> anyhow::Result<u16> {
    let first = tokio::net::TcpListener::bind(SocketAddr::from((Web::address_of_slot(0), port))).await?;
    let port = first.local_addr()?.port();
    let mut listeners = vec![first];
    for slot in 1..web.config.addresses {
        listeners
            .push(tokio::net::TcpListener::bind(SocketAddr::from((Web::address_of_slot(slot), port))).await?);
    }
    let state = Arc::new(State {
        page_requests: (0..web.config.hosts).map(|_| AtomicU64::new(0)).collect(),
        web,
        port,
        log,
    });
    for listener in listeners {
        let state = state.clone();
        let app = Router::new().fallback(move |request: Request<Body>| {
            let state = state.clone();
            async move { answer(&state, request).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    Ok(port)
}

fn plain(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

async fn answer(state: &State, request: Request<Body>) -> Response<Body> {
    let arrived = state.log.started.elapsed();
    let web = &state.web;
    let host_name = host_name(request.headers());
    let host = host_name
        .as_deref()
        .and_then(|name| web.host_by_name(name))
        .copied();
    let path = PagePath::parse(request.uri().path(), request.uri().query());
    let (Some(host), Some(path)) = (host, path) else {
        if state.log.unknown.fetch_add(1, Ordering::Relaxed) < 20 {
            let example = format!("{} {}", host_name.unwrap_or_default(), request.uri());
            state
                .log
                .unknown_examples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(example);
        }
        return plain(StatusCode::NOT_FOUND, "no such page");
    };
    // Each answer takes the host's latency, give or take half.
    let jitter = 0.5 + (arrived.subsec_nanos() % 1000) as f64 / 1000.0;
    tokio::time::sleep(host.latency.mul_f64(jitter * web.config.time_scale)).await;
    let response = if !web.exists(&host, path) {
        plain(StatusCode::NOT_FOUND, "no such page")
    } else {
        match path {
            PagePath::RobotsTxt => match (host.kind, web.robots_txt(&host)) {
                (HostKind::RobotsError, _) => plain(StatusCode::SERVICE_UNAVAILABLE, "robots.txt is down"),
                (_, Some(robots)) => plain(StatusCode::OK, &robots),
                (_, None) => plain(StatusCode::NOT_FOUND, "no robots.txt"),
            },
            PagePath::SitemapXml => plain(StatusCode::NOT_FOUND, "no sitemap"),
            PagePath::Go(n) => {
                let target = web.redirect_target(&host, n);
                let location = format!(
                    "http://{}:{}{}",
                    Web::host_name(target.host),
                    state.port,
                    target.path.render()
                );
                Response::builder()
                    .status(StatusCode::MOVED_PERMANENTLY)
                    .header(header::LOCATION, location)
                    .body(Body::empty())
                    .expect("valid response")
            }
            PagePath::Page(n) | PagePath::Copy(n) | PagePath::Private(n) => {
                let count = state.page_requests[host.id as usize].fetch_add(1, Ordering::Relaxed);
                if host.kind == HostKind::Throttling && count % 8 == 3 {
                    let status = if count % 16 == 3 {
                        StatusCode::TOO_MANY_REQUESTS
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    Response::builder()
                        .status(status)
                        .header(header::RETRY_AFTER, web.config.retry_after_secs.to_string())
                        .body(Body::from("slow down"))
                        .expect("valid response")
                } else {
                    page(state, &host, n)
                }
            }
        }
    };
    let record = RequestRecord {
        host: host.id,
        path,
        arrived,
        answered: state.log.started.elapsed(),
        status: response.status().as_u16(),
    };
    state
        .log
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(record);
    response
}

fn host_name(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::HOST)?.to_str().ok()?;
    let name = value.rsplit_once(':').map_or(value, |(name, _)| name);
    Some(name.to_ascii_lowercase())
}

fn page(state: &State, host: &crate::model::Host, n: u64) -> Response<Body> {
    let web = &state.web;
    let mut html = String::with_capacity(4096);
    let title = format!("{} page {n}", Web::host_name(host.id));
    html.push_str(&format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body><main><h1>{title}</h1><p>"
    ));
    html.push_str(&web.text(host, n));
    html.push_str("</p><ul>");
    for link in web.links(host, n) {
        let path = link.path.render().replace('&', "&amp;");
        if link.host == host.id {
            html.push_str(&format!("<li><a href=\"{path}\">{path}</a></li>"));
        } else {
            let name = Web::host_name(link.host);
            html.push_str(&format!(
                "<li><a href=\"http://{name}:{}{path}\">{name}{path}</a></li>",
                state.port
            ));
        }
    }
    html.push_str("</ul></main></body></html>");
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(html))
        .expect("valid response")
}
