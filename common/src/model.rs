//! Newtypes for the identities that flow through the pipeline.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::normalize::NormalizedUrl;

/// The unit of politeness and of robots.txt: a URL's host and, when it is
/// not the scheme's default, its port (`example.com`, `127.0.0.1:8080`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostKey(String);

impl HostKey {
    pub fn of(url: &NormalizedUrl) -> HostKey {
        let url = url.as_url();
        let host = url.host_str().unwrap_or_default();
        match url.port() {
            Some(port) => HostKey(format!("{host}:{port}")),
            None => HostKey(host.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A host key read back from storage, as [`HostKey::as_str`] wrote it.
    pub fn from_stored(text: &str) -> HostKey {
        HostKey(text.to_string())
    }
}

// Here rather than in `normalize`, so that the dependency goes one way:
// identities are made from normalized URLs.
impl NormalizedUrl {
    pub fn host_key(&self) -> HostKey {
        HostKey::of(self)
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A document's stable id: the 64-bit xxh3 hash of its canonical URL.
///
/// xxh3 is a specified algorithm, so the id of a URL never changes between
/// builds or machines; indexing a page twice therefore replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocId(pub u64);

impl DocId {
    pub fn of(canonical_url: &NormalizedUrl) -> DocId {
        DocId(xxhash_rust::xxh3::xxh3_64(canonical_url.as_str().as_bytes()))
    }

    /// Big-endian bytes, so that keys sort by id in RocksDB.
    pub fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The inverse of `Display`: 16 hex digits (as in URLs like `/docs/{id}`).
impl std::str::FromStr for DocId {
    type Err = InvalidDocId;

    fn from_str(text: &str) -> Result<DocId, InvalidDocId> {
        let hex = text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
        match hex.then(|| u64::from_str_radix(text, 16)) {
            Some(Ok(id)) => Ok(DocId(id)),
            _ => Err(InvalidDocId(text.chars().take(40).collect())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid document id {0:?}: expected 16 hex digits")]
pub struct InvalidDocId(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_keeps_non_default_port_only() {
        let a = NormalizedUrl::parse("http://Example.com:80/a").unwrap();
        let b = NormalizedUrl::parse("http://127.0.0.1:8080/a").unwrap();
        assert_eq!(HostKey::of(&a).as_str(), "example.com");
        assert_eq!(HostKey::of(&b).as_str(), "127.0.0.1:8080");
    }

    #[test]
    fn doc_id_is_stable() {
        // Guards the on-disk format: ids must not change between releases.
        let url = NormalizedUrl::parse("https://example.com/").unwrap();
        assert_eq!(DocId::of(&url), DocId::of(&url));
        assert_eq!(DocId::of(&url).to_string().len(), 16);
    }

    #[test]
    fn doc_id_parses_its_display() {
        for id in [DocId(0), DocId(42), DocId(u64::MAX)] {
            assert_eq!(id.to_string().parse(), Ok(id));
        }
        for bad in [
            "",
            "2a",
            "+00000000000002a",
            "00000000000000zz",
            "00000000000000002a",
        ] {
            assert!(bad.parse::<DocId>().is_err(), "{bad}");
        }
    }
}
