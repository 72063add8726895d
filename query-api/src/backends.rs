//! Where the query API finds its index shards and documents: in this
//! process (a data directory) or over HTTP (`trawl index --listen`,
//! `trawl docs --listen`), behind one interface each, and asked with a
//! deadline.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::DocId;
use indexer::{DocRecord, Docstore};
use serde::de::DeserializeOwned;

use crate::protocol::{
    DocsResponse, ErrorBody, GenerationResponse, PrepareRequest, Prepared, QueryRequest, ShardHits,
};
use crate::search_error::SearchError;
use crate::shard_search::ShardSearcher;

/// Why a shard or the document service did not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Failed(String),
    /// The request itself was bad (a 400 from the shard): the same on
    /// every shard.
    #[error("{0}")]
    BadRequest(String),
}

impl From<SearchError> for BackendError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Invalid(message) => BackendError::BadRequest(message),
            other => BackendError::Failed(other.to_string()),
        }
    }
}

/// One index shard.
#[async_trait]
pub trait IndexShard: Send + Sync {
    /// How the shard is named in answers and logs (its URL or directory).
    fn name(&self) -> &str;
    /// Changes with every commit the shard's searches see.
    async fn generation(&self) -> Result<u64, BackendError>;
    /// The generation at once, without a future or a deadline, where the
    /// shard is in this process (a cache hit asks every shard's).
    fn generation_now(&self) -> Option<u64> {
        None
    }
    /// The live documents its searches see now (for /readyz).
    async fn documents(&self) -> Result<u64, BackendError>;
    async fn prepare(&self, request: &PrepareRequest) -> Result<Prepared, BackendError>;
    async fn query(&self, request: &QueryRequest) -> Result<ShardHits, BackendError>;
}

/// Where documents (titles, text for snippets) come from.
#[async_trait]
pub trait DocumentSource: Send + Sync {
    fn name(&self) -> &str;
    /// The documents of `ids`, in order; `None` for one the store lacks.
    async fn get_many(&self, ids: &[DocId]) -> Result<Vec<Option<DocRecord>>, BackendError>;
    /// Whether the source answers at all (for /readyz).
    async fn ping(&self) -> Result<(), BackendError>;
}

/// Runs `work` with `deadline`.
pub async fn within<T>(
    deadline: Duration,
    work: impl Future<Output = Result<T, BackendError>>,
) -> Result<T, BackendError> {
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or(Err(BackendError::Timeout(deadline)))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BackendError::from(SearchError::from(e)))?
        .map_err(BackendError::from)
}

/// A shard in this process: an index directory.
pub struct LocalShard {
    name: String,
    searcher: Arc<ShardSearcher>,
}

impl LocalShard {
    pub fn new(name: impl Into<String>, searcher: ShardSearcher) -> LocalShard {
        LocalShard {
            name: name.into(),
            searcher: Arc::new(searcher),
        }
    }
}

#[async_trait]
impl IndexShard for LocalShard {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generation(&self) -> Result<u64, BackendError> {
        Ok(self.searcher.generation())
    }

    fn generation_now(&self) -> Option<u64> {
        // A few segment ids hashed once per commit: no need to wait.
        Some(self.searcher.generation())
    }

    async fn documents(&self) -> Result<u64, BackendError> {
        Ok(self.searcher.documents())
    }

    async fn prepare(&self, request: &PrepareRequest) -> Result<Prepared, BackendError> {
        let (searcher, request) = (self.searcher.clone(), request.clone());
        blocking(move || searcher.prepare(&request)).await
    }

    async fn query(&self, request: &QueryRequest) -> Result<ShardHits, BackendError> {
        let (searcher, request) = (self.searcher.clone(), request.clone());
        blocking(move || searcher.query(&request)).await
    }
}

/// An HTTP client for the shard and document servers, shared by all.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
        .expect("an HTTP client with default TLS settings")
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, BackendError> {
    let status = response.status();
    if status.is_success() {
        let body = response
            .bytes()
            .await
            .map_err(|e| BackendError::Failed(e.to_string()))?;
        return serde_json::from_slice(&body).map_err(|e| BackendError::Failed(format!("bad answer: {e}")));
    }
    // An error answer is an ErrorBody; a proxy in between may answer
    // anything, kept as it came.
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorBody>(&body)
        .map(|answer| answer.error)
        .unwrap_or(body);
    if status == reqwest::StatusCode::BAD_REQUEST {
        return Err(BackendError::BadRequest(message));
    }
    Err(BackendError::Failed(format!("HTTP {status}: {message}")))
}

/// A shard served by `trawl index --listen`.
pub struct RemoteShard {
    base: String,
    client: reqwest::Client,
}

impl RemoteShard {
    /// `base` is the server's URL, e.g. `http://10.0.0.5:8091`.
    pub fn new(base: &str) -> RemoteShard {
        RemoteShard {
            base: base.trim_end_matches('/').to_string(),
            client: http_client(),
        }
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, BackendError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).map_err(|e| BackendError::Failed(e.to_string()))?)
            .send()
            .await
            .map_err(|e| BackendError::Failed(e.to_string()))?;
        read_json(response).await
    }

    /// `/shard/generation`: the commit searched now and its documents.
    async fn current_generation(&self) -> Result<GenerationResponse, BackendError> {
        let response = self
            .client
            .get(format!("{}/shard/generation", self.base))
            .send()
            .await
            .map_err(|e| BackendError::Failed(e.to_string()))?;
        read_json(response).await
    }
}

#[async_trait]
impl IndexShard for RemoteShard {
    fn name(&self) -> &str {
        &self.base
    }

    async fn generation(&self) -> Result<u64, BackendError> {
        Ok(self.current_generation().await?.generation)
    }

    async fn documents(&self) -> Result<u64, BackendError> {
        Ok(self.current_generation().await?.documents)
    }

    async fn prepare(&self, request: &PrepareRequest) -> Result<Prepared, BackendError> {
        self.post("/shard/prepare", request).await
    }

    async fn query(&self, request: &QueryRequest) -> Result<ShardHits, BackendError> {
        self.post("/shard/query", request).await
    }
}

/// Documents in this process: a docstore directory.
pub struct LocalDocs {
    name: String,
    docstore: Arc<Docstore>,
    catch_up: crate::docs::CatchUp,
}

impl LocalDocs {
    pub fn new(name: impl Into<String>, docstore: Arc<Docstore>) -> LocalDocs {
        LocalDocs {
            name: name.into(),
            docstore,
            catch_up: crate::docs::CatchUp::default(),
        }
    }
}

#[async_trait]
impl DocumentSource for LocalDocs {
    fn name(&self) -> &str {
        &self.name
    }

    async fn get_many(&self, ids: &[DocId]) -> Result<Vec<Option<DocRecord>>, BackendError> {
        let docstore = self.docstore.clone();
        let ids = ids.to_vec();
        let catch_up = self.catch_up.due();
        blocking(move || {
            if catch_up && let Err(error) = docstore.catch_up() {
                tracing::warn!(%error, "docstore catch-up failed");
            }
            Ok(docstore.get_records(&ids)?)
        })
        .await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Documents served by `trawl docs --listen`.
pub struct RemoteDocs {
    base: String,
    client: reqwest::Client,
}

impl RemoteDocs {
    pub fn new(base: &str) -> RemoteDocs {
        RemoteDocs {
            base: base.trim_end_matches('/').to_string(),
            client: http_client(),
        }
    }
}

#[async_trait]
impl DocumentSource for RemoteDocs {
    fn name(&self) -> &str {
        &self.base
    }

    async fn get_many(&self, ids: &[DocId]) -> Result<Vec<Option<DocRecord>>, BackendError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(DocId::to_string).collect();
        let response = self
            .client
            .get(format!("{}/docs", self.base))
            .query(&[("ids", ids.join(","))])
            .send()
            .await
            .map_err(|e| BackendError::Failed(e.to_string()))?;
        let docs: DocsResponse = read_json(response).await?;
        Ok(docs
            .docs
            .into_iter()
            .map(|doc| doc.map(|d| DocRecord::Decoded(d.doc)))
            .collect())
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let response = self
            .client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .map_err(|e| BackendError::Failed(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(BackendError::Failed(format!("HTTP {}", response.status())))
        }
    }
}
