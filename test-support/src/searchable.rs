//! Whether what a crawl made searchable is exactly what a clean crawl
//! makes searchable, checked word by word, through the search service in
//! this process or through an API over HTTP.
//!
//! The checks: each page's unique word finds that page and nothing else;
//! each word common to every page finds every page, each once, over all
//! result pages, with a total equal to what paging lists; no answer is
//! partial; the live document count is the page count.

use std::collections::BTreeSet;

use query_api::SearchService;

/// What a clean crawl makes searchable.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Each page's URL and the word only it holds.
    pub pages: Vec<(String, String)>,
    /// Words every page holds.
    pub common_words: Vec<String>,
}

/// Where the answers come from.
pub enum Searcher<'a> {
    /// A search service in this process.
    Service(&'a SearchService),
    /// A query API: `http://host:port`.
    Api(&'a str),
}

/// One page of results: links, total, partial.
struct Answer {
    links: Vec<String>,
    total: usize,
    partial: bool,
}

impl Searcher<'_> {
    async fn page(&self, query: &str, page: usize) -> Answer {
        match self {
            Searcher::Service(service) => {
                let answer = service
                    .search(query, page, 50)
                    .await
                    .unwrap_or_else(|e| panic!("{query:?}: {e}"));
                Answer {
                    links: answer.results.iter().map(|r| r.link.clone()).collect(),
                    total: answer.total,
                    partial: answer.partial,
                }
            }
            Searcher::Api(base) => {
                let response = reqwest::Client::new()
                    .get(format!("{base}/api/v1/search"))
                    .query(&[("query", query), ("per_page", "50"), ("page", &page.to_string())])
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let body: serde_json::Value =
                    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
                assert_eq!(status, 200, "{query:?}: {body}");
                Answer {
                    links: body["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r["link"].as_str().unwrap().to_string())
                        .collect(),
                    total: body["total"].as_u64().unwrap() as usize,
                    partial: body["partial"].as_bool().unwrap(),
                }
            }
        }
    }

    /// Every link a search finds, over all its result pages.
    pub async fn all_links(&self, query: &str) -> Vec<String> {
        let mut links = Vec::new();
        let mut page = 1;
        loop {
            let answer = self.page(query, page).await;
            assert!(!answer.partial, "{query:?}: a partial answer");
            let empty = answer.links.is_empty();
            links.extend(answer.links);
            if links.len() >= answer.total || empty {
                assert_eq!(
                    links.len(),
                    answer.total,
                    "{query:?}: the total and the listed results differ"
                );
                return links;
            }
            page += 1;
        }
    }
}

/// Asserts that `searcher` answers as after a clean crawl (see the
/// module). `documents`: the live document count, when known.
pub async fn assert_searchable(
    searcher: &Searcher<'_>,
    expected: &Expected,
    documents: Option<u64>,
    case: &str,
) {
    if let Some(documents) = documents {
        assert_eq!(documents, expected.pages.len() as u64, "{case}: live documents");
    }
    for (url, word) in &expected.pages {
        let links = searcher.all_links(word).await;
        assert_eq!(
            links,
            std::slice::from_ref(url),
            "{case}: {word:?} must find {url} alone"
        );
    }
    let every: BTreeSet<&String> = expected.pages.iter().map(|(url, _)| url).collect();
    for word in &expected.common_words {
        let links = searcher.all_links(word).await;
        let distinct: BTreeSet<&String> = links.iter().collect();
        assert_eq!(distinct.len(), links.len(), "{case}: {word:?} lists a page twice");
        assert_eq!(distinct, every, "{case}: {word:?} must find every page");
    }
}
