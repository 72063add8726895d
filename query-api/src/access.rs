//! Who may use the API, from which web pages, and how often: what makes it
//! safe to expose.
//!
//! - **API keys** ([`AccessConfig::search_keys`], [`AccessConfig::admin_keys`]):
//!   with search keys set, a search (`/api/v1/search`, the HTML page `/`)
//!   needs one of them or an admin key; with admin keys set, `/api/v1/stats`
//!   and `/metrics` need one. A key is sent as `Authorization: Bearer KEY`,
//!   as `X-API-Key: KEY`, or as the `key` parameter (the HTML page has no
//!   other way; its form and links carry it on). No key is `401
//!   unauthorized`; a search key on an admin route is `403 forbidden`.
//!   `/healthz`, `/readyz` and the OpenAPI document stay open: load
//!   balancers and clients need them without a secret.
//! - **A per-client rate limit** ([`RateLimit`]): a token bucket per client
//!   address (the peer, or the first address of a header a proxy in front
//!   sets, [`AccessConfig::client_ip_header`]); past it, `429 rate_limited`
//!   with `Retry-After`. Requests with an admin key and the health routes
//!   are not counted.
//! - **CORS** ([`AccessConfig::cors_origins`]): the origins whose pages may
//!   call the API from a browser; none by default, so a browser keeps other
//!   sites' scripts from reading answers.
//!
//! [`protect`] wraps a router in these layers; with the defaults it changes
//! nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::wire::PeerAddr;

/// Routes anyone may call: health checks and the API's description.
const OPEN_PATHS: &[&str] = &["/healthz", "/readyz", "/api/v1/openapi.json"];
/// Routes that need an admin key when admin keys are set.
const ADMIN_PATHS: &[&str] = &["/api/v1/stats", "/metrics"];
/// Clients whose buckets are remembered at most; past it, full buckets
/// (clients idle long enough to have every token back) are forgotten.
const MAX_TRACKED_CLIENTS: usize = 100_000;

#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    /// Keys that may search. None: searching needs no key.
    pub search_keys: Vec<String>,
    /// Keys that may do everything: search, `/api/v1/stats`, `/metrics`.
    /// None: those routes need no key.
    pub admin_keys: Vec<String>,
    /// Origins (`https://docs.example.com`) whose pages may call the API
    /// from a browser; `*` for any. None: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Requests per client; none for no limit.
    pub rate_limit: Option<RateLimit>,
    /// The header that names the client when a proxy stands in front
    /// (`X-Forwarded-For`: its first address; `X-Real-IP`). Only set it
    /// behind a proxy that sets it: a client could send it otherwise.
    pub client_ip_header: Option<HeaderName>,
}

/// A token bucket: `per_second` requests on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl AccessConfig {
    /// Refuses settings that cannot work, naming them.
    pub fn validate(&self) -> Result<(), String> {
        for key in self.search_keys.iter().chain(&self.admin_keys) {
            if key.len() < 16 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(
                    "an API key must be at least 16 printable ASCII characters without spaces".into(),
                );
            }
        }
        for origin in &self.cors_origins {
            if origin != "*" && (HeaderValue::from_str(origin).is_err() || !origin.contains("://")) {
                return Err(format!(
                    "CORS origin {origin:?}: give a scheme and host (https://docs.example.com) or *"
                ));
            }
        }
        if self.cors_origins.len() > 1 && self.cors_origins.iter().any(|o| o == "*") {
            return Err("CORS origin * allows every origin: give it alone".into());
        }
        if let Some(limit) = self.rate_limit
            && (!(limit.per_second.is_finite() && limit.per_second > 0.0) || limit.burst == 0)
        {
            return Err("the rate limit must be above 0 per second with a burst of at least 1".into());
        }
        Ok(())
    }
}

/// `router` behind the API keys, the rate limit and CORS of `config`.
pub fn protect(router: Router, config: AccessConfig) -> Router {
    let cors = cors_layer(&config.cors_origins);
    let needs_key = !config.search_keys.is_empty() || !config.admin_keys.is_empty();
    let limits_rate = config.rate_limit.is_some();
    let guard = Arc::new(Guard {
        buckets: Mutex::new(HashMap::new()),
        config,
    });
    // Layers run outside in: CORS first (a preflight is answered without a
    // key, and a 401 or 429 still carries the CORS headers a browser needs
    // to show it), then the rate limit, then the keys. A layer with nothing
    // to check is left out: the two cost a boxed service and future each
    // per request, 6% of the cache hits a second (BENCHMARKS.md §17).
    let mut router = router;
    if needs_key {
        router = router.layer(middleware::from_fn_with_state(guard.clone(), check_key));
    }
    if limits_rate {
        router = router.layer(middleware::from_fn_with_state(guard, check_rate));
    }
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Checked by AccessConfig::validate.
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-api-key"),
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(3600)),
    )
}

struct Guard {
    config: AccessConfig,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// What a request's key allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    None,
    Search,
    Admin,
}

impl Guard {
    fn grant(&self, request: &Request) -> Grant {
        let Some(key) = presented_key(request) else {
            return Grant::None;
        };
        if self.config.admin_keys.iter().any(|k| same_secret(k, &key)) {
            Grant::Admin
        } else if self.config.search_keys.iter().any(|k| same_secret(k, &key)) {
            Grant::Search
        } else {
            Grant::None
        }
    }

    /// Takes a token from `client`'s bucket; the seconds until one is back
    /// when there is none.
    fn take(&self, limit: RateLimit, client: IpAddr, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().expect("rate-limit buckets poisoned");
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(&client) {
            let burst = f64::from(limit.burst);
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * limit.per_second < burst
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            updated: now,
        });
        let refilled = now.duration_since(bucket.updated).as_secs_f64() * limit.per_second;
        bucket.tokens = (bucket.tokens + refilled).min(f64::from(limit.burst));
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / limit.per_second).ceil().max(1.0) as u64)
        }
    }

    /// The client's address: from the proxy's header when one is named
    /// and present, else the peer's.
    fn client(&self, request: &Request) -> IpAddr {
        if let Some(name) = &self.config.client_ip_header
            && let Some(ip) = request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .and_then(|first| first.trim().parse().ok())
        {
            return ip;
        }
        request
            .extensions()
            .get::<ConnectInfo<PeerAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.0.ip())
    }
}

async fn check_key(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if OPEN_PATHS.contains(&path) || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let admin_route = ADMIN_PATHS.contains(&path);
    let needed = if admin_route {
        !guard.config.admin_keys.is_empty()
    } else {
        !guard.config.search_keys.is_empty()
    };
    if !needed {
        return next.run(request).await;
    }
    let grant = guard.grant(&request);
    let allowed = match grant {
        Grant::Admin => true,
        Grant::Search => !admin_route,
        Grant::None => false,
    };
    if allowed {
        return next.run(request).await;
    }
    let error = match (grant, presented_key(&request).is_some()) {
        (Grant::Search, _) => ApiError::Forbidden(format!("{path} needs an admin key; this is a search key")),
        (_, true) => ApiError::Unauthorized("unknown API key".into()),
        (_, false) => ApiError::Unauthorized(
            "an API key is required: send it as Authorization: Bearer KEY, X-API-Key: KEY or the key parameter"
                .into(),
        ),
    };
    error.into_response()
}

async fn check_rate(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Some(limit) = guard.config.rate_limit else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let exempt = path == "/healthz" || path == "/readyz" || guard.grant(&request) == Grant::Admin;
    if !exempt && let Err(retry_after_secs) = guard.take(limit, guard.client(&request), Instant::now()) {
        metrics::counter!("trawl_api_rate_limited_total").increment(1);
        return ApiError::RateLimited {
            per_second: limit.per_second,
            retry_after_secs,
        }
        .into_response();
    }
    next.run(request).await
}

/// The key a request carries: `Authorization: Bearer`, `X-API-Key`, or
/// the `key` parameter, in that order.
fn presented_key(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim().to_string());
    }
    key_parameter(request.uri().query())
}

/// The `key` parameter of a query string.
pub fn key_parameter(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "key")
        .map(|(_, value)| value.into_owned())
}

/// Compares two secrets in time that depends on their lengths only, so
/// that how long a refusal takes says nothing about how much of a key was
/// right.
fn same_secret(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(limit: RateLimit) -> Guard {
        Guard {
            config: AccessConfig {
                rate_limit: Some(limit),
                ..AccessConfig::default()
            },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let limit = RateLimit {
            per_second: 2.0,
            burst: 3,
        };
        let guard = guard(limit);
        let client = IpAddr::from([127, 0, 0, 1]);
        let other = IpAddr::from([127, 0, 0, 2]);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(guard.take(limit, client, start), Ok(()));
        }
        assert_eq!(guard.take(limit, client, start), Err(1));
        // Another client has its own bucket.
        assert_eq!(guard.take(limit, other, start), Ok(()));
        // Half a second gives one token back at 2 per second, not two.
        let later = start + Duration::from_millis(500);
        assert_eq!(guard.take(limit, client, later), Ok(()));
        assert_eq!(guard.take(limit, client, later), Err(1));
        // A long rest fills the bucket to its burst, no further.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(guard.take(limit, client, much_later), Ok(()));
        }
        assert!(guard.take(limit, client, much_later).is_err());
    }

    #[test]
    fn a_slow_rate_says_how_long_to_wait() {
        let limit = RateLimit {
            per_second: 0.1,
            burst: 1,
        };
        let guard = guard(limit);
        let client = IpAddr::from([127, 0, 0, 1]);
        let now = Instant::now();
        assert_eq!(guard.take(limit, client, now), Ok(()));
        assert_eq!(guard.take(limit, client, now), Err(10));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abcdefghijklmnop", "abcdefghijklmnop"));
        assert!(!same_secret("abcdefghijklmnop", "abcdefghijklmnoq"));
        assert!(!same_secret("abcdefghijklmnop", "abcdefghijklmno"));
        assert!(!same_secret("abcdefghijklmnop", ""));
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let bad = [
            AccessConfig {
                search_keys: vec!["short".into()],
                ..AccessConfig::default()
            },
            AccessConfig {
                admin_keys: vec!["has a space in it, long enough".into()],
                ..AccessConfig::default()
            },
            AccessConfig {
                cors_origins: vec!["docs.example.com".into()],
                ..AccessConfig::default()
            },
            AccessConfig {
                cors_origins: vec!["*".into(), "https://a.example".into()],
                ..AccessConfig::default()
            },
            AccessConfig {
                rate_limit: Some(RateLimit {
                    per_second: 0.0,
                    burst: 1,
                }),
                ..AccessConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
        assert_eq!(AccessConfig::default().validate(), Ok(()));
    }
}
