//! The HTTP surface of the query API.
//!
//! - `GET /api/v1/search?query=&page=&per_page=` (or `&offset=&limit=`):
//!   JSON results.
//! - `GET /api/v1/stats`: documents, shards, generations, cache counts.
//! - `GET /api/v1/openapi.json`: the OpenAPI document of the above.
//! - `GET /`: the HTML search page (works without JavaScript).
//! - `GET /healthz` (the process is up), `GET /readyz` (every shard and the
//!   document service answer), `GET /metrics` (Prometheus).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use metrics::Histogram;

use crate::error::ApiError;
use crate::page::render_page;
use crate::protocol::{DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_RESULT_OFFSET};
use crate::rank::Ranking;
use crate::search::{SearchRequest, SearchService};

/// The OpenAPI 3.1 document of `/api/v1/search`.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub fn router(service: Arc<SearchService>) -> Router {
    Router::new()
        .route("/api/v1/search", get(search_json))
        .route("/api/v1/stats", get(stats))
        .route(
            "/api/v1/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON) }),
        )
        .route("/", get(search_page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(service)
}

/// The search parameters, read leniently: unknown parameters are ignored
/// and invalid percent-encoding decodes to U+FFFD, but a bad number is a 400.
struct SearchParams {
    query: Option<String>,
    page: Option<usize>,
    per_page: usize,
    offset: Option<usize>,
    ranking: Ranking,
}

impl SearchParams {
    fn from_raw(raw: Option<&str>) -> Result<SearchParams, ApiError> {
        let mut params = SearchParams {
            query: None,
            page: None,
            per_page: DEFAULT_PER_PAGE,
            offset: None,
            ranking: Ranking::Tuned,
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "query" | "q" => params.query = Some(value.into_owned()),
                "page" => params.page = Some(positive(&key, &value)?),
                "per_page" | "limit" => params.per_page = positive(&key, &value)?,
                "offset" => params.offset = Some(whole(&key, &value)?),
                "ranking" => {
                    params.ranking = match value.as_ref() {
                        "tuned" => Ranking::Tuned,
                        "baseline" => Ranking::Baseline,
                        other => {
                            return Err(ApiError::BadRequest(format!(
                                "ranking must be tuned or baseline, got {other:?}"
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        if params.page.is_some() && params.offset.is_some() {
            return Err(ApiError::BadRequest(
                "give page or offset, not both: offset counts results, page counts pages".into(),
            ));
        }
        let first_result = params.offset.unwrap_or_else(|| {
            (params.page.unwrap_or(1) - 1).saturating_mul(params.per_page.min(MAX_PER_PAGE))
        });
        if first_result >= MAX_RESULT_OFFSET {
            return Err(ApiError::BadRequest(format!(
                "page too deep: at most {MAX_RESULT_OFFSET} results can be paged"
            )));
        }
        Ok(params)
    }

    fn request(&self) -> SearchRequest {
        SearchRequest {
            query: self.query.clone().unwrap_or_default(),
            page: self.page.unwrap_or(1),
            per_page: self.per_page,
            offset: self.offset,
            ranking: self.ranking,
        }
    }
}

fn whole(key: &str, value: &str) -> Result<usize, ApiError> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| ApiError::BadRequest(format!("{key} must be a whole number from 0 up, got {value:?}")))
}

fn positive(key: &str, value: &str) -> Result<usize, ApiError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::BadRequest(format!(
            "{key} must be a whole number from 1 up, got {value:?}"
        ))),
    }
}

fn record(route: &'static str, started: Instant, status: StatusCode) {
    record_seconds(route, started.elapsed().as_secs_f64(), status);
}

fn record_seconds(route: &'static str, seconds: f64, status: StatusCode) {
    static SEARCH_OK: OnceLock<Histogram> = OnceLock::new();
    if route == "/api/v1/search" && status == StatusCode::OK {
        // Nearly every request: its histogram is looked up in the registry
        // once, not per request.
        SEARCH_OK
            .get_or_init(|| request_histogram(route, status))
            .record(seconds);
    } else {
        request_histogram(route, status).record(seconds);
    }
}

fn request_histogram(route: &'static str, status: StatusCode) -> Histogram {
    metrics::histogram!(
        "trawl_api_request_duration_seconds",
        "route" => route,
        "status" => status.as_u16().to_string()
    )
}

async fn search_json(State(service): State<Arc<SearchService>>, RawQuery(raw): RawQuery) -> Response {
    let started = Instant::now();
    let result = service
        .answer_query_string(started, raw.as_deref().unwrap_or_default(), |raw| {
            SearchParams::from_raw(Some(raw)).map(|params| params.request())
        })
        .await;
    match result {
        // A cached answer's JSON is written as kept, with this request's
        // head: no serialization. The request took what the search took:
        // the clock is not read again for what is left.
        Ok(answered) => {
            let seconds = answered.took_ms / 1000.0;
            let response = (
                [(header::CONTENT_TYPE, "application/json")],
                axum::body::Body::new(answered.json()),
            )
                .into_response();
            record_seconds("/api/v1/search", seconds, response.status());
            response
        }
        Err(error) => {
            let response = error.into_response();
            record("/api/v1/search", started, response.status());
            response
        }
    }
}

async fn search_page(State(service): State<Arc<SearchService>>, RawQuery(raw): RawQuery) -> Response {
    let started = Instant::now();
    let key = crate::access::key_parameter(raw.as_deref());
    let key = key.as_deref();
    let params = match SearchParams::from_raw(raw.as_deref()) {
        Ok(params) => params,
        Err(error) => return page_response(render_page("", None, Some(&error.to_string()), key)),
    };
    let query = params.query.clone().unwrap_or_default();
    if query.trim().is_empty() {
        return page_response(render_page("", None, None, key));
    }
    let answer = service.search_with(params.request()).await;
    let response = match answer {
        Ok(response) => page_response(render_page(&query, Some(&response), None, key)),
        Err(error) => page_response(render_page(&query, None, Some(&error.to_string()), key)),
    };
    record("/", started, response.status());
    response
}

fn page_response(html: String) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

async fn stats(State(service): State<Arc<SearchService>>) -> Response {
    axum::Json(service.stats().await).into_response()
}

async fn readyz(State(service): State<Arc<SearchService>>) -> Response {
    let (ready, body) = service.readiness().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(service): State<Arc<SearchService>>) -> Response {
    let counts = service.cache_counts();
    metrics::counter!("trawl_api_cache_hits_total").absolute(counts.hits);
    metrics::counter!("trawl_api_cache_misses_total").absolute(counts.misses);
    metrics::counter!("trawl_api_cache_coalesced_total").absolute(counts.coalesced);
    metrics::counter!("trawl_api_cache_evictions_total").absolute(counts.evictions);
    metrics::gauge!("trawl_api_cache_entries").set(counts.entries as f64);
    metrics::gauge!("trawl_api_cache_bytes").set(counts.bytes as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::render_metrics(),
    )
        .into_response()
}
