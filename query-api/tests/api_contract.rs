//! The REST contract: status codes and JSON shapes for good and bad requests.

use std::sync::Arc;

use common::{NormalizedUrl, PageMessage};
use indexer::{Docstore, IndexReaderHandle, IndexWriterHandle, StoredDoc};
use query_api::SearchService;
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
        docstore.put(page.doc_id(), &StoredDoc::from_page(page)).unwrap();
        writer.upsert(page).unwrap();
    }
    writer.commit().unwrap();
    let index = IndexReaderHandle::open(&dir.join("index")).unwrap();
    index.reload().unwrap();
    let service = Arc::new(SearchService::new(index, docstore));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(query_api::serve(listener, service, std::future::pending()));
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
    let cases: Vec<(String, u16)> = vec![
        ("/api/v1/search".into(), 400),                           // no query
        ("/api/v1/search?query=".into(), 400),                    // empty
        ("/api/v1/search?query=%20%09%20".into(), 400),           // blank
        (format!("/api/v1/search?query={long_query}"), 400),      // 10 KB
        ("/api/v1/search?query=%22unbalanced+quote".into(), 200), // lenient parse
        ("/api/v1/search?query=own%00ership%07".into(), 200),     // control characters
        ("/api/v1/search?query=%zz%E0%A4".into(), 200),           // invalid percent-encoding
        ("/api/v1/search?query=title:(".into(), 200),             // broken syntax
        ("/api/v1/search?query=ownership&page=0".into(), 400),
        ("/api/v1/search?query=ownership&page=-1".into(), 400),
        ("/api/v1/search?query=ownership&page=abc".into(), 400),
        ("/api/v1/search?query=ownership&page=999999".into(), 400), // deeper than paging allows
        ("/api/v1/search?query=ownership&per_page=100000".into(), 200),
        ("/api/v1/search?query=ownership&color=blue".into(), 200), // unknown parameter
        ("/api/v1/search?query=-ownership".into(), 400),           // only exclusions
        ("/api/v1/search?query=NOT+OR+AND".into(), 400),           // only operators
        ("/api/v1/search?query=%22%22%22".into(), 400),            // only quotes
        ("/api/v1/search?query=ownership&ranking=best".into(), 400),
        ("/api/v1/search?query=ownership&ranking=baseline".into(), 200),
        (
            "/api/v1/search?query=own%C3%A9rship+%E6%97%A5%E6%9C%AC".into(),
            200,
        ), // non-ASCII
        ("/api/v1/search?query=a%20OR%20%22b&page=2&per_page=1".into(), 200),
    ];
    for (path, expected) in cases {
        let (status, body) = get(&base, &path).await;
        assert_eq!(status, expected, "{path}: {body}");
        if expected == 400 {
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{path}: {body}"
            );
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
    assert_eq!(parameters, ["query", "page", "per_page", "ranking"]);

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
    let json_error = |status: u16, body: &str| {
        let json: Value =
            serde_json::from_str(body).unwrap_or_else(|_| panic!("{status}: not JSON: {body:?}"));
        assert_eq!(json["status"], status, "{body}");
        assert!(!json["error"].as_str().unwrap().is_empty(), "{body}");
    };

    // An unknown route.
    let (status, body) = get(&base, "/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404);
    // A method the route does not take.
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/search?query=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    json_error(405, &response.text().await.unwrap());
    // A raw 0xff byte in the request line: hyper refuses it.
    let (status, body) = raw_request(
        &base,
        b"GET /api/v1/search?query=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400);
    json_error(400, &body);
    // Not HTTP at all.
    let (status, body) = raw_request(&base, b"\x16\x03\x01 hello\r\n\r\n").await;
    assert_eq!(status, 400);
    json_error(400, &body);
    // A URI over 64 KiB.
    let long = format!(
        "GET /api/v1/search?query={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let (status, body) = raw_request(&base, long.as_bytes()).await;
    assert_eq!(status, 414);
    json_error(414, &body);
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
        serde_json::json!(["error", "status"])
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
