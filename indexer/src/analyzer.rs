//! The analyzers of the full-text fields, for indexing and for queries.
//!
//! [`TEXT_ANALYZER`], for every searched field, is tantivy's `en_stem` chain
//! (the simple tokenizer, tokens over 40 bytes dropped, lower-casing,
//! English Snowball stemming) with one change: the stemmer's answers are
//! remembered. Documentation repeats a small vocabulary endlessly, and
//! stemming was 6% of a crawl's CPU before the cache (BENCHMARKS.md). The
//! tokens are the same as `en_stem`'s; a test holds them to it.
//!
//! [`RAW_ANALYZER`], for the `spell` field only, is the same chain without
//! the stemmer: a spelling suggestion must be a word people write
//! ("borrowing", not its stem "borrow").

use std::cell::RefCell;
use std::collections::HashMap;

use tantivy::Index;
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// The name the schema gives the analyzer.
pub const TEXT_ANALYZER: &str = "trawl_en";

/// The name the schema gives the unstemmed analyzer of the `spell` field.
pub const RAW_ANALYZER: &str = "trawl_raw";

/// Words whose stems a thread remembers; past it, it starts over.
const MAX_CACHED_STEMS: usize = 200_000;

pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser) // the stemmer does not lower-case
        .filter(CachedStemmer)
        .build()
}

/// [`text_analyzer`] without the stemmer: lower-cased words as written.
pub fn raw_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .build()
}

/// Makes the analyzers known to `index`: done wherever an index is opened,
/// for writing or for searching.
pub fn register(index: &Index) {
    index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
    index.tokenizers().register(RAW_ANALYZER, raw_analyzer());
}

thread_local! {
    /// Word -> stem, for the thread analyzing. tantivy clones analyzers into
    /// each new segment, so a cache in the analyzer would start empty after
    /// every commit; its indexing threads live as long as the writer.
    /// Hashed with foldhash, seeded per process: std's SipHash, paid on
    /// every token, was a visible part of a crawl's CPU (BENCHMARKS.md §21).
    static STEMS: RefCell<HashMap<String, String, foldhash::fast::RandomState>> =
        RefCell::new(HashMap::default());
}

/// English stemming, with a cache of stems.
#[derive(Clone, Copy)]
pub struct CachedStemmer;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
    stemmer: frostem::Stemmer,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: self.stemmer,
        }
    }
}

pub struct CachedStemmerStream<T> {
    tail: T,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        // English Snowball leaves a word of fewer than three letters as it
        // is ("not hop 3"), and short words are many: no lookup for them.
        if token.text.len() < 3 {
            return true;
        }
        STEMS.with_borrow_mut(|stems| match stems.get(token.text.as_str()) {
            Some(stem) => {
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                if stems.len() >= MAX_CACHED_STEMS {
                    stems.clear();
                }
                let stem = self.stemmer.stem(&token.text).into_owned();
                stems.insert(std::mem::replace(&mut token.text, stem.clone()), stem);
            }
        });
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::TokenizerManager;

    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while let Some(token) = stream.next() {
            tokens.push((
                token.text.clone(),
                token.offset_from,
                token.offset_to,
                token.position,
            ));
        }
        tokens
    }

    #[test]
    fn words_under_three_bytes_are_their_own_stems() {
        let stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
        let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').chain(['é', 'ÿ', 'ß']).collect();
        for a in &alphabet {
            let one = a.to_string();
            assert_eq!(stemmer.stem(&one), one);
            for b in &alphabet {
                let two = format!("{a}{b}");
                if two.len() < 3 {
                    assert_eq!(stemmer.stem(&two), two);
                }
            }
        }
    }

    #[test]
    fn same_tokens_as_tantivys_en_stem() {
        let mut reference = TokenizerManager::default().get("en_stem").unwrap();
        let mut ours = text_analyzer();
        let texts = [
            "Ownership is Rust's most unique feature and has deep implications for the rest of the language.",
            "running runs ran RUNNER, borrowing borrowed BORROWS; iterators iterate: Vec<T>::push_within_capacity",
            "Ünïcödé wörds and a verylongtokenthatgoesonandonandonandonandonandon beyond forty bytes",
            "running runs ran RUNNER again, to hit the cache",
            "a I is as us os ys ss y's s é éé ÿ ii io ie 1s 2a",
            "",
        ];
        for text in texts {
            assert_eq!(tokens(&mut ours, text), tokens(&mut reference, text), "{text}");
        }
    }
}
