//! STUB: replaced by the qtext branch.
use serde::{Deserialize, Serialize};
pub struct SnippetQuery {
    pub terms: Vec<String>,
    pub phrases: Vec<Vec<String>>,
}
pub struct Snippet {
    pub html: String,
    pub text: String,
    pub highlights: Vec<Highlight>,
}
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}
pub fn query_snippet(_text: &str, _query: &SnippetQuery, _max_chars: usize) -> Option<Snippet> {
    None
}
pub fn static_snippet(text: &str) -> Snippet {
    Snippet {
        html: html_escape::encode_text(text).into_owned(),
        text: text.to_string(),
        highlights: vec![],
    }
}
