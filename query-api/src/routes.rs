//! The HTTP surface.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::ApiError;
use crate::page::render_page;
use crate::search::{DEFAULT_PER_PAGE, SearchResponse, SearchService};

pub fn router(service: Arc<SearchService>) -> Router {
    Router::new()
        .route("/api/v1/search", get(search_json))
        .route("/", get(search_page))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(service)
}

/// The search parameters, read leniently: unknown parameters are ignored
/// and invalid percent-encoding decodes to U+FFFD, but a bad number is a 400.
struct SearchParams {
    query: Option<String>,
    page: usize,
    per_page: usize,
}

impl SearchParams {
    fn from_raw(raw: Option<&str>) -> Result<SearchParams, ApiError> {
        let mut params = SearchParams {
            query: None,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "query" | "q" => params.query = Some(value.into_owned()),
                "page" => params.page = positive(&key, &value)?,
                "per_page" => params.per_page = positive(&key, &value)?,
                _ => {}
            }
        }
        Ok(params)
    }
}

fn positive(key: &str, value: &str) -> Result<usize, ApiError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::BadRequest(format!(
            "{key} must be a whole number from 1 up, got {value:?}"
        ))),
    }
}

async fn run_search(service: Arc<SearchService>, params: SearchParams) -> Result<SearchResponse, ApiError> {
    let query = params.query.unwrap_or_default();
    // Searching reads mmapped segments and RocksDB: blocking work.
    tokio::task::spawn_blocking(move || service.search(&query, params.page, params.per_page))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

async fn search_json(
    State(service): State<Arc<SearchService>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = SearchParams::from_raw(raw.as_deref())?;
    let response = run_search(service, params).await?;
    Ok(axum::Json(response).into_response())
}

async fn search_page(State(service): State<Arc<SearchService>>, RawQuery(raw): RawQuery) -> Response {
    let params = match SearchParams::from_raw(raw.as_deref()) {
        Ok(params) => params,
        Err(error) => return page_response(render_page("", None, Some(&error.to_string()))),
    };
    let query = params.query.clone().unwrap_or_default();
    if query.trim().is_empty() {
        return page_response(render_page("", None, None));
    }
    match run_search(service, params).await {
        Ok(response) => page_response(render_page(&query, Some(&response), None)),
        Err(error) => page_response(render_page(&query, None, Some(&error.to_string()))),
    }
}

fn page_response(html: String) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}
