//! STUB: replaced by the qtext branch.
use tantivy::schema::Field;
pub struct Correction {
    pub original: String,
    pub corrected: String,
}
pub fn candidates(
    _searcher: &tantivy::Searcher,
    _field: Field,
    _word: &str,
) -> tantivy::Result<Vec<(String, u64)>> {
    Ok(vec![])
}
pub fn correct_words(
    _words: &[String],
    _lookup: impl Fn(&str) -> (u64, Vec<(String, u64)>),
) -> Option<Vec<Correction>> {
    None
}
pub fn merge_candidates(lists: Vec<Vec<(String, u64)>>) -> Vec<(String, u64)> {
    lists.into_iter().flatten().collect()
}
