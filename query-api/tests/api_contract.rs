//! The REST contract: status codes and JSON shapes for good and bad requests.

use std::sync::Arc;

use common::{NormalizedUrl, PageMessage};
use indexer::{Docstore, IndexReaderHandle, IndexWriterHandle};
use query_api::{AccessConfig, RateLimit, SearchService};
use serde_json::Value;

fn page(path: &str, title: &str, text: &str) -> PageMessage {
    let url = NormalizedUrl::parse(&format!("http://docs.test{path}")).unwrap();
    PageMessage {
        url: url.clone(),
        canonical_url: url,
        fetched_at_ms: 0,
        status: 200,
        title: title.into(),
        description: format!("About {title}."),
        headings: vec![title.into()],
        text: text.into(),
        outlinks: vec![],
        language: None,
        simhash: 0,
        content_hash: 0,
        sections: Vec::new(),
    }
}

/// Starts the API over a small index; returns its base URL.
async fn start_api(dir: &std::path::Path) -> String {
    start_api_with(dir, AccessConfig::default()).await
}

/// Starts the API over a small index behind `access`; returns its base URL.
async fn start_api_with(dir: &std::path::Path, access: AccessConfig) -> String {
    let docstore = Arc::new(Docstore::open(&dir.join("docstore")).unwrap());
    let mut writer = IndexWriterHandle::open(&dir.join("index"), 1).unwrap();
    let pages = [
        page(
            "/own",
            "What is Ownership?",
            "Ownership is a set of rules that govern how a Rust program manages memory.",
        ),
        page(
            "/borrow",
            "References and Borrowing",
            "A reference is like a pointer; borrowing does not take ownership.",
        ),
        page(
            "/xss",
            "<script>alert(1)</script> Tricky",
            "A title with markup & ampersands <b>inside</b> text.",
        ),
    ];
    for page in &pages {
        docstore.put_page(page).unwrap();
        writer.upsert(page).unwrap();
    }
    writer.commit().unwrap();
    let index = IndexReaderHandle::open(&dir.join("index")).unwrap();
    index.reload().unwrap();
    let service = Arc::new(SearchService::new(index, docstore));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(query_api::serve(
        listener,
        service,
        access,
        std::future::pending(),
    ));
    base
}

async fn get(base: &str, path_and_query: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path_and_query}")).await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON ({status}): {body}"));
    (status, json)
}

#[tokio::test]
async fn search_contract() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;

    let (status, body) = get(&base, "/api/v1/search?query=ownership").await;
    assert_eq!(status, 200);
    assert_eq!(body["query"], "ownership");
    assert_eq!(body["total"], 2);
    assert!(body["took_ms"].as_f64().is_some());
    let first = &body["results"][0];
    assert_eq!(first["title"], "What is Ownership?");
    assert_eq!(first["link"], "http://docs.test/own");
    assert!(
        first["snippet"].as_str().unwrap().contains("<b>Ownership</b>"),
        "{first}"
    );

    // AND by default: both terms must match.
    let (_, body) = get(&base, "/api/v1/search?query=ownership+pointer").await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["results"][0]["link"], "http://docs.test/borrow");

    // Titles are plain text in JSON; snippets are escaped HTML.
    let (_, body) = get(&base, "/api/v1/search?query=ampersands").await;
    assert_eq!(body["results"][0]["title"], "<script>alert(1)</script> Tricky");
    let snippet = body["results"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("&amp;") && snippet.contains("&lt;b&gt;") && !snippet.contains("<script"),
        "{snippet}"
    );
}

#[tokio::test]
async fn bad_requests_get_json_errors_never_500() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let long_query = "a".repeat(10 * 1024);
    // Each bad request's status and its stable code.
    let cases: Vec<(String, u16, &str)> = vec![
        ("/api/v1/search".into(), 400, "invalid_query"), // no query
        ("/api/v1/search?query=".into(), 400, "invalid_query"), // empty
        ("/api/v1/search?query=%20%09%20".into(), 400, "invalid_query"), // blank
        (format!("/api/v1/search?query={long_query}"), 400, "invalid_query"), // 10 KB
        ("/api/v1/search?query=%22unbalanced+quote".into(), 200, ""), // lenient parse
        ("/api/v1/search?query=own%00ership%07".into(), 200, ""), // control characters
        ("/api/v1/search?query=%zz%E0%A4".into(), 200, ""), // invalid percent-encoding
        ("/api/v1/search?query=title:(".into(), 200, ""), // broken syntax
        (
            "/api/v1/search?query=ownership&page=0".into(),
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/search?query=ownership&page=-1".into(),
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/search?query=ownership&page=abc".into(),
            400,
            "invalid_parameter",
        ),
        // Deeper than paging allows, by page and by offset.
        (
            "/api/v1/search?query=ownership&page=999999".into(),
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/search?query=ownership&offset=999999".into(),
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/search?query=ownership&offset=-3".into(),
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/search?query=ownership&limit=0".into(),
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/search?query=ownership&page=2&offset=10".into(),
            400,
            "invalid_parameter",
        ),
        ("/api/v1/search?query=ownership&per_page=100000".into(), 200, ""),
        ("/api/v1/search?query=ownership&color=blue".into(), 200, ""), // unknown parameter
        ("/api/v1/search?query=-ownership".into(), 400, "invalid_query"), // only exclusions
        ("/api/v1/search?query=NOT+OR+AND".into(), 400, "invalid_query"), // only operators
        ("/api/v1/search?query=%22%22%22".into(), 400, "invalid_query"), // only quotes
        (
            "/api/v1/search?query=ownership&ranking=best".into(),
            400,
            "invalid_parameter",
        ),
        ("/api/v1/search?query=ownership&ranking=baseline".into(), 200, ""),
        (
            "/api/v1/search?query=own%C3%A9rship+%E6%97%A5%E6%9C%AC".into(),
            200,
            "",
        ), // non-ASCII
        (
            "/api/v1/search?query=a%20OR%20%22b&page=2&per_page=1".into(),
            200,
            "",
        ),
        ("/no/such/path".into(), 404, "not_found"),
    ];
    for (path, expected, code) in cases {
        let (status, body) = get(&base, &path).await;
        assert_eq!(status, expected, "{path}: {body}");
        if expected >= 400 {
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{path}: {body}"
            );
            assert_eq!(body["code"], code, "{path}: {body}");
            assert_eq!(body["status"], expected, "{path}: {body}");
        } else {
            assert!(body["results"].is_array(), "{path}: {body}");
        }
    }
    let (_, body) = get(&base, "/api/v1/search?query=ownership&per_page=100000").await;
    assert_eq!(body["per_page"], 50, "per_page is capped");
}

#[tokio::test]
async fn the_answer_has_every_field_the_openapi_document_requires() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let (status, openapi) = get(&base, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let parameters: Vec<&str> = openapi["paths"]["/api/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        parameters,
        ["query", "page", "per_page", "offset", "limit", "ranking", "key"]
    );

    let (_, body) = get(&base, "/api/v1/search?query=ownership").await;
    let schemas = &openapi["components"]["schemas"];
    for field in schemas["SearchResponse"]["required"].as_array().unwrap() {
        let field = field.as_str().unwrap();
        assert!(body.get(field).is_some(), "answer lacks {field}: {body}");
    }
    for field in schemas["SearchResult"]["required"].as_array().unwrap() {
        let field = field.as_str().unwrap();
        assert!(
            body["results"][0].get(field).is_some(),
            "result lacks {field}: {body}"
        );
    }
    assert_eq!(body["shards"]["searched"], 1);
    assert_eq!(body["partial"], false);
    let (status, ready) = get(&base, "/readyz").await;
    assert_eq!(
        (status, &ready["ready"]),
        (200, &serde_json::json!(true)),
        "{ready}"
    );
}

#[tokio::test]
async fn html_page_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let home = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("<form") && home.contains("name=\"query\""));
    let results = reqwest::get(format!("{base}/?query=%3Cb%3Eownership"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(results.contains("What is Ownership?"), "{results}");
    assert!(
        results.contains("value=\"&lt;b&gt;ownership\""),
        "the query is escaped back into the form"
    );
    let error = reqwest::get(format!("{base}/?query=x&page=0")).await.unwrap();
    assert_eq!(error.status(), 200, "the HTML page shows errors inline");
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
}

/// Serves `router` on a port of its own; returns its base URL.
async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

#[tokio::test]
async fn shard_search_contract() {
    let dir = tempfile::tempdir().unwrap();
    start_api(dir.path()).await;
    let index = IndexReaderHandle::open(&dir.path().join("index")).unwrap();
    index.reload().unwrap();
    let searcher = query_api::shard_search::ShardSearcher::new(index, 3);
    let base = serve_router(query_api::shard_search::router(Arc::new(searcher))).await;

    let (status, body) = get(&base, "/shard/search?query=ownership&limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(body["shard"], 3);
    assert_eq!(body["query"], "ownership");
    assert_eq!(body["total"], 2, "all matches are counted, beyond the limit");
    let hits = body["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    // The title match ranks first, as in the full API; ids are hex strings.
    let own = page("/own", "", "").doc_id().to_string();
    assert_eq!(hits[0]["doc_id"], own);
    assert!(hits[0]["score"].as_f64().unwrap() > 0.0);

    for bad in [
        "/shard/search",
        "/shard/search?query=x&limit=0",
        "/shard/search?query=x&limit=many",
    ] {
        let (status, body) = get(&base, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}

#[tokio::test]
async fn docs_contract() {
    let dir = tempfile::tempdir().unwrap();
    start_api(dir.path()).await;
    let docstore = Arc::new(Docstore::open_secondary(&dir.path().join("docstore")).unwrap());
    let base = serve_router(query_api::docs::router(docstore)).await;

    let own = page("/own", "", "").doc_id();
    let (status, body) = get(&base, &format!("/docs/{own}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["doc_id"], own.to_string());
    assert_eq!(body["url"], "http://docs.test/own");
    assert_eq!(body["title"], "What is Ownership?");
    assert_eq!(body["static_snippet"], "About What is Ownership?.");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Ownership is a set of rules")
    );

    let (status, body) = get(&base, "/docs/0000000000000000").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = get(&base, "/docs/xyz").await;
    assert_eq!(status, 400, "{body}");
}

/// Sends raw bytes on a new connection; returns the status and the body.
async fn raw_request(base: &str, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

// Every error is JSON with a status and a message, also those axum and
// hyper answer by themselves (a first version answered these with an
// empty body).
#[tokio::test]
async fn every_error_is_json_even_the_http_layers_own() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let json_error = |status: u16, code: &str, body: &str| {
        let json: Value =
            serde_json::from_str(body).unwrap_or_else(|_| panic!("{status}: not JSON: {body:?}"));
        assert_eq!(json["status"], status, "{body}");
        assert_eq!(json["code"], code, "{body}");
        assert!(!json["error"].as_str().unwrap().is_empty(), "{body}");
    };

    // An unknown route.
    let (status, body) = get(&base, "/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404);
    assert_eq!(body["code"], "not_found");
    // A method the route does not take.
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/search?query=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    json_error(405, "method_not_allowed", &response.text().await.unwrap());
    // A raw 0xff byte in the request line: hyper refuses it.
    let (status, body) = raw_request(
        &base,
        b"GET /api/v1/search?query=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400);
    json_error(400, "malformed_request", &body);
    // Not HTTP at all.
    let (status, body) = raw_request(&base, b"\x16\x03\x01 hello\r\n\r\n").await;
    assert_eq!(status, 400);
    json_error(400, "malformed_request", &body);
    // A URI over 64 KiB.
    let long = format!(
        "GET /api/v1/search?query={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let (status, body) = raw_request(&base, long.as_bytes()).await;
    assert_eq!(status, 414);
    json_error(414, "uri_too_long", &body);
    // A search error names its status too.
    let (status, body) = get(&base, "/api/v1/search?query=").await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], 400);
    // The OpenAPI document says so.
    let (_, openapi) = get(&base, "/api/v1/openapi.json").await;
    let description = openapi["info"]["description"].as_str().unwrap();
    assert!(
        description.contains("414") && description.contains("404"),
        "{description}"
    );
    assert_eq!(
        openapi["components"]["schemas"]["Error"]["required"],
        serde_json::json!(["error", "code", "status"])
    );
}

// /readyz says how many documents the shards hold.
#[tokio::test]
async fn readyz_reports_the_document_count() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let (status, body) = get(&base, "/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(body["documents"], 3);
    assert_eq!(body["ready"], true);
}

// limit/offset page the same results as per_page/page, and the answer
// says which slice it is.
#[tokio::test]
async fn limit_and_offset_page_like_per_page_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let links = |body: &Value| -> Vec<String> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["link"].as_str().unwrap().to_string())
            .collect()
    };
    // "ownership" is on two pages (of the same host: site: turns crowding off).
    let (_, all) = get(&base, "/api/v1/search?query=ownership&per_page=10").await;
    assert_eq!(links(&all).len(), 2, "{all}");
    let (_, second) = get(&base, "/api/v1/search?query=ownership&per_page=1&page=2").await;
    let (_, by_offset) = get(&base, "/api/v1/search?query=ownership&limit=1&offset=1").await;
    assert_eq!(links(&second), links(&all)[1..].to_vec());
    assert_eq!(links(&by_offset), links(&second));
    assert_eq!(
        (
            &by_offset["offset"],
            &by_offset["limit"],
            &by_offset["page"],
            &by_offset["per_page"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!(1)
        )
    );
    assert_eq!(second["offset"], 1);
    // Past the end: no results, not an error.
    let (status, past) = get(&base, "/api/v1/search?query=ownership&offset=5").await;
    assert_eq!((status, links(&past).len()), (200, 0), "{past}");
}

const SEARCH_KEY: &str = "search-key-0123456789";
const ADMIN_KEY: &str = "admin-key-0123456789ab";

async fn get_with(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, headers)
}

// A server with keys: searches need a search or admin key, stats and
// metrics an admin key; health and the OpenAPI document need none.
#[tokio::test]
async fn api_keys_guard_search_and_admin_routes() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api_with(
        dir.path(),
        AccessConfig {
            search_keys: vec![SEARCH_KEY.into()],
            admin_keys: vec![ADMIN_KEY.into()],
            ..AccessConfig::default()
        },
    )
    .await;
    let search = "/api/v1/search?query=ownership";
    let bearer = |key: &str| format!("Bearer {key}");
    // (path, headers, expected status, expected code)
    type Case<'a> = (String, Vec<(&'a str, String)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (search.into(), vec![], 401, "unauthorized"),
        (
            search.into(),
            vec![("authorization", bearer("wrong-key-0123456789"))],
            401,
            "unauthorized",
        ),
        (
            search.into(),
            vec![("authorization", bearer(SEARCH_KEY))],
            200,
            "",
        ),
        (search.into(), vec![("x-api-key", SEARCH_KEY.into())], 200, ""),
        (format!("{search}&key={SEARCH_KEY}"), vec![], 200, ""),
        (search.into(), vec![("authorization", bearer(ADMIN_KEY))], 200, ""),
        ("/api/v1/stats".into(), vec![], 401, "unauthorized"),
        (
            "/api/v1/stats".into(),
            vec![("authorization", bearer(SEARCH_KEY))],
            403,
            "forbidden",
        ),
        (
            "/api/v1/stats".into(),
            vec![("x-api-key", ADMIN_KEY.into())],
            200,
            "",
        ),
        (
            "/metrics".into(),
            vec![("x-api-key", SEARCH_KEY.into())],
            403,
            "forbidden",
        ),
        ("/metrics".into(), vec![("x-api-key", ADMIN_KEY.into())], 200, ""),
        ("/?query=ownership".into(), vec![], 401, "unauthorized"),
        ("/healthz".into(), vec![], 200, ""),
        ("/readyz".into(), vec![], 200, ""),
        ("/api/v1/openapi.json".into(), vec![], 200, ""),
    ];
    for (path, headers, expected, code) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, body, response_headers) = get_with(&base, &path, &headers).await;
        assert_eq!(status, expected, "{path} {headers:?}: {body}");
        if expected >= 400 {
            assert_eq!(body["code"], code, "{path}: {body}");
        }
        if expected == 401 {
            assert_eq!(response_headers["www-authenticate"], "Bearer");
        }
    }
    // The HTML page carries a key given as a parameter on into its form
    // and links.
    let (status, page, _) = get_with(&base, &format!("/?query=ownership&key={SEARCH_KEY}"), &[]).await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap();
    assert!(page.contains("What is Ownership?"), "{page}");
    assert!(
        page.contains(&format!(
            r#"<input type="hidden" name="key" value="{SEARCH_KEY}">"#
        )),
        "{page}"
    );
}

// Admin keys alone guard only the admin routes: search stays open.
#[tokio::test]
async fn an_admin_key_alone_leaves_search_open() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api_with(
        dir.path(),
        AccessConfig {
            admin_keys: vec![ADMIN_KEY.into()],
            ..AccessConfig::default()
        },
    )
    .await;
    let (status, _, _) = get_with(&base, "/api/v1/search?query=ownership", &[]).await;
    assert_eq!(status, 200);
    let (status, body, _) = get_with(&base, "/api/v1/stats", &[]).await;
    assert_eq!((status, &body["code"]), (401, &serde_json::json!("unauthorized")));
}

// /api/v1/stats: documents, shards with their generations, cache counts
// that move with searches.
#[tokio::test]
async fn stats_report_documents_shards_and_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api(dir.path()).await;
    let (status, before) = get(&base, "/api/v1/stats").await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["documents"], 3);
    let shards = before["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0]["documents"], 3);
    assert!(shards[0]["generation"].as_u64().is_some(), "{before}");
    assert_eq!(shards[0]["error"], Value::Null);
    assert_eq!(before["cache"]["hits"], 0);
    get(&base, "/api/v1/search?query=ownership").await;
    get(&base, "/api/v1/search?query=ownership").await;
    let (_, after) = get(&base, "/api/v1/stats").await;
    assert_eq!(after["cache"]["misses"], 1, "{after}");
    assert_eq!(after["cache"]["hits"], 1, "{after}");
    assert_eq!(after["cache"]["entries"], 1, "{after}");
    // Every field the OpenAPI document requires.
    let (_, openapi) = get(&base, "/api/v1/openapi.json").await;
    for field in openapi["components"]["schemas"]["Stats"]["required"]
        .as_array()
        .unwrap()
    {
        assert!(after.get(field.as_str().unwrap()).is_some(), "{field}: {after}");
    }
}

// Past its burst a client gets 429 with Retry-After; another client (by
// the proxy's header) and requests with the admin key are not held back.
#[tokio::test]
async fn a_client_past_its_rate_limit_gets_429_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api_with(
        dir.path(),
        AccessConfig {
            admin_keys: vec![ADMIN_KEY.into()],
            // One token per 100 s: nothing refills during the test.
            rate_limit: Some(RateLimit {
                per_second: 0.01,
                burst: 3,
            }),
            client_ip_header: Some(axum::http::HeaderName::from_static("x-forwarded-for")),
            ..AccessConfig::default()
        },
    )
    .await;
    let search = "/api/v1/search?query=ownership";
    let client_a = [("x-forwarded-for", "203.0.113.7, 10.0.0.1")];
    for n in 0..3 {
        let (status, body, _) = get_with(&base, search, &client_a).await;
        assert_eq!(status, 200, "request {n}: {body}");
    }
    let (status, body, headers) = get_with(&base, search, &client_a).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(headers["retry-after"], "100");
    // Another client has its own bucket.
    let (status, _, _) = get_with(&base, search, &[("x-forwarded-for", "203.0.113.8")]).await;
    assert_eq!(status, 200);
    // Health checks and the admin key are not counted.
    let (status, _, _) = get_with(&base, "/healthz", &client_a).await;
    assert_eq!(status, 200);
    let (status, _, _) = get_with(&base, search, &[client_a[0], ("x-api-key", ADMIN_KEY)]).await;
    assert_eq!(status, 200);
}

// CORS: the listed origin may read answers (errors too), a preflight
// needs no key, another origin gets no CORS headers.
#[tokio::test]
async fn cors_allows_the_listed_origins_only() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_api_with(
        dir.path(),
        AccessConfig {
            search_keys: vec![SEARCH_KEY.into()],
            cors_origins: vec!["https://docs.example.com".into()],
            ..AccessConfig::default()
        },
    )
    .await;
    let search = "/api/v1/search?query=ownership";
    let allowed = ("origin", "https://docs.example.com");
    let (status, _, headers) = get_with(&base, search, &[allowed, ("x-api-key", SEARCH_KEY)]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "https://docs.example.com");
    // A refusal carries the header too, so the page's script can read why.
    let (status, _, headers) = get_with(&base, search, &[allowed]).await;
    assert_eq!(status, 401);
    assert_eq!(headers["access-control-allow-origin"], "https://docs.example.com");
    let (_, _, headers) = get_with(
        &base,
        search,
        &[("origin", "https://evil.example"), ("x-api-key", SEARCH_KEY)],
    )
    .await;
    assert!(
        headers.get("access-control-allow-origin").is_none(),
        "{headers:?}"
    );
    // A preflight, without a key.
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}{search}"))
        .header("origin", "https://docs.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://docs.example.com");
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-api-key"),
        "{headers:?}"
    );
}
