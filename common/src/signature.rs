//! Page signatures: a 64-bit simhash for near-duplicates and an exact
//! content hash.
//!
//! The simhash's features are word shingles taken as slices of the text
//! itself, so no string is built per shingle: the text must be
//! whitespace-normalized (one space between words), which extraction
//! guarantees.

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 3;

/// Text hashed into the simhash at most. The first 64 KB of a page's main
/// text say whether two pages are near-duplicates as well as all of it does,
/// and the simhash's cost grows with the text (a 256 KB page took most of a
/// millisecond).
pub const MAX_SIMHASH_BYTES: usize = 64 * 1024;

/// Simhash over `SHINGLE_WORDS`-word shingles of the first
/// `MAX_SIMHASH_BYTES` of `text`; texts shorter than one shingle hash their
/// words.
pub fn text_simhash(text: &str) -> u64 {
    let mut end = text.len().min(MAX_SIMHASH_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    simhash::simhash_stream(Shingles::new(&text[..end], SHINGLE_WORDS))
}

/// Exact content hash of the text.
pub fn content_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// Overlapping runs of `size` words, as slices of the input.
struct Shingles<'a> {
    text: &'a str,
    /// Byte offset where each word starts.
    starts: Vec<usize>,
    size: usize,
    next: usize,
}

impl<'a> Shingles<'a> {
    fn new(text: &'a str, size: usize) -> Shingles<'a> {
        let mut starts = Vec::new();
        let mut in_word = false;
        for (i, byte) in text.bytes().enumerate() {
            let space = byte == b' ';
            if !space && !in_word {
                starts.push(i);
            }
            in_word = !space;
        }
        Shingles {
            text,
            starts,
            size: size.max(1),
            next: 0,
        }
    }
}

impl<'a> Iterator for Shingles<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let words = self.starts.len();
        let size = self.size.min(words);
        if size == 0 || self.next + size > words {
            return None;
        }
        let start = self.starts[self.next];
        let end = match self.starts.get(self.next + size) {
            Some(&next_start) => next_start,
            None => self.text.len(),
        };
        self.next += 1;
        Some(self.text[start..end].trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shingles_are_word_runs() {
        let shingles: Vec<_> = Shingles::new("a bb ccc d", 3).collect();
        assert_eq!(shingles, ["a bb ccc", "bb ccc d"]);
        let short: Vec<_> = Shingles::new("one two", 3).collect();
        assert_eq!(short, ["one two"]);
        assert_eq!(Shingles::new("", 3).count(), 0);
    }

    #[test]
    fn similar_texts_have_close_simhashes() {
        let base = "the quick brown fox jumps over the lazy dog ".repeat(20);
        let edited = format!("{base} and one more sentence at the end");
        let other = "completely different words about rust ownership and borrowing rules ".repeat(20);
        let near = (text_simhash(&base) ^ text_simhash(&edited)).count_ones();
        let far = (text_simhash(&base) ^ text_simhash(&other)).count_ones();
        assert!(near < far, "near {near} far {far}");
    }
}
