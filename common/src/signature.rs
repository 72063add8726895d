//! Page signatures: a 64-bit simhash for near-duplicates and an exact
//! content hash.
//!
//! The simhash is Charikar's: every feature of a text (here, a shingle of
//! consecutive words) is hashed to 64 bits; bit i of the signature is set
//! when the features whose hash has bit i set outweigh those whose hash has
//! it clear. Similar texts share most features and so most bits.
//!
//! It is computed as the `simhash` crate computes it (features hashed with
//! FNV-1a through `std::hash::Hash`, the same vote per bit), and a property
//! test holds it bit for bit to that crate's `simhash_stream`. It is our own
//! for two reasons: features carry weights, so that text every page of a
//! site repeats can count for less; and the votes are counted a byte of the
//! hash at a time from a table, without a branch per bit, which made it about
//! five times faster on the Rust docs (BENCHMARKS.md); features of weight 1,
//! nearly all, are counted eight bits to an addition (see [`Simhasher`]).
//!
//! Shingles are slices of the text itself, so no string is built per
//! shingle: the text must be whitespace-normalized (one space between
//! words), which extraction guarantees.

use std::hash::{Hash, Hasher};

/// Words per shingle. Measured on labelled page pairs of the Rust docs
/// (BENCHMARKS.md, "Near-duplicates"): 2 has the best precision (0.985,
/// against 0.956 for 3 and 0.914 for 1) and the recall of 3.
pub const SHINGLE_WORDS: usize = 2;

/// Text hashed into the simhash at most. The first 64 KB of a page's main
/// text say whether two pages are near-duplicates as well as all of it does,
/// and the cost grows with the text.
pub const MAX_SIMHASH_BYTES: usize = 64 * 1024;

/// Simhash over `SHINGLE_WORDS`-word shingles of the first
/// `MAX_SIMHASH_BYTES` of `text`, every shingle weighing 1; texts shorter
/// than one shingle hash their words.
pub fn text_simhash(text: &str) -> u64 {
    text_simhash_with(text, SHINGLE_WORDS)
}

/// [`text_simhash`] over shingles of `shingle_words` words (for measuring
/// which size to use).
pub fn text_simhash_with(text: &str, shingle_words: usize) -> u64 {
    let mut end = text.len().min(MAX_SIMHASH_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut simhash = Simhasher::default();
    for shingle in Shingles::new(&text[..end], shingle_words) {
        simhash.add(feature_hash(shingle), 1);
    }
    simhash.finish()
}

/// Words at the start of a page's main text that [`lead_simhash`] signs:
/// its heading and first sentences, which say what the page is about.
pub const LEAD_WORDS: usize = 48;

/// Simhash of the first [`LEAD_WORDS`] words of `text`. Two pages whose
/// whole texts are close may still be different pages when most of their
/// text is what many pages of a site repeat (the same trait's methods on
/// every iterator's page): their leads tell them apart.
pub fn lead_simhash(text: &str) -> u64 {
    let end = text
        .match_indices(' ')
        .nth(LEAD_WORDS - 1)
        .map_or(text.len(), |(at, _)| at);
    text_simhash(&text[..end])
}

/// Exact content hash of the text.
pub fn content_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// The 64-bit hash of a feature, as the `simhash` crate takes it.
pub fn feature_hash(feature: &str) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    feature.hash(&mut hasher);
    hasher.finish()
}

/// Accumulates weighted features into a simhash.
#[derive(Clone)]
pub struct Simhasher {
    /// Per bit: the weight of features with the bit set, minus the weight
    /// of those with it clear, for the features counted so far.
    votes: [i64; 64],
    /// Features of weight 1 not yet in `votes`, counted eight bits to a
    /// word: byte j of `ones[k]` is how many of them have bit 8k + j set.
    /// Nearly every feature weighs 1, and eight additions count one where
    /// a vote per bit took 64.
    ones: [u64; 8],
    /// How many features `ones` counts, at most [`ONES_BEFORE_FLUSH`].
    ones_counted: u32,
}

impl Default for Simhasher {
    fn default() -> Self {
        Simhasher {
            votes: [0; 64],
            ones: [0; 8],
            ones_counted: 0,
        }
    }
}

/// A byte of `ones` counts to 255: past that many features, they move
/// into `votes`.
const ONES_BEFORE_FLUSH: u32 = 255;

/// For each byte value, its 8 bits spread over the 8 bytes of a word
/// (bit j as byte j, 0 or 1), so that adding the words counts each bit.
const SPREAD_BITS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut bit = 0;
        while bit < 8 {
            table[byte] |= (((byte >> bit) & 1) as u64) << (8 * bit);
            bit += 1;
        }
        byte += 1;
    }
    table
};

/// For each byte value, its 8 bits as +1 (set) or -1 (clear).
const BIT_VOTES: [[i8; 8]; 256] = {
    let mut table = [[0i8; 8]; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut bit = 0;
        while bit < 8 {
            table[byte][bit] = if (byte >> bit) & 1 == 1 { 1 } else { -1 };
            bit += 1;
        }
        byte += 1;
    }
    table
};

impl Simhasher {
    /// Counts a feature with hash `hash`, `weight` times.
    pub fn add(&mut self, hash: u64, weight: i64) {
        if weight == 1 {
            for (ones, byte) in self.ones.iter_mut().zip(hash.to_le_bytes()) {
                *ones += SPREAD_BITS[byte as usize];
            }
            self.ones_counted += 1;
            if self.ones_counted == ONES_BEFORE_FLUSH {
                self.votes = self.votes_with_ones();
                self.ones = [0; 8];
                self.ones_counted = 0;
            }
            return;
        }
        for (chunk, byte) in self.votes.chunks_exact_mut(8).zip(hash.to_le_bytes()) {
            for (vote, bit) in chunk.iter_mut().zip(BIT_VOTES[byte as usize]) {
                *vote += i64::from(bit) * weight;
            }
        }
    }

    /// `votes` with the features `ones` counts added: each votes +1 for
    /// the bits it has set and -1 for the others.
    fn votes_with_ones(&self) -> [i64; 64] {
        let mut votes = self.votes;
        let counted = i64::from(self.ones_counted);
        for (chunk, ones) in votes.chunks_exact_mut(8).zip(self.ones) {
            for (vote, set) in chunk.iter_mut().zip(ones.to_le_bytes()) {
                *vote += 2 * i64::from(set) - counted;
            }
        }
        votes
    }

    pub fn finish(&self) -> u64 {
        self.votes_with_ones()
            .iter()
            .enumerate()
            .fold(
                0,
                |simhash, (bit, vote)| if *vote > 0 { simhash | 1 << bit } else { simhash },
            )
    }
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

    #[test]
    fn weights_shift_the_vote() {
        // Two features: the heavier one wins every bit where they differ.
        let (a, b) = (feature_hash("heavy"), feature_hash("light"));
        let mut simhash = Simhasher::default();
        simhash.add(a, 3);
        simhash.add(b, 1);
        assert_eq!(simhash.finish(), a);
    }

    #[test]
    fn votes_counted_in_bytes_are_votes_counted_per_bit() {
        // More features of weight 1 than a byte counts, between weighted
        // ones, against a vote per bit as Charikar gives it.
        let mut simhash = Simhasher::default();
        let mut votes = [0i64; 64];
        for i in 0..1000u64 {
            let hash = feature_hash(&format!("feature {i}"));
            let weight = if i % 97 == 0 { 3 + (i % 5) as i64 } else { 1 };
            simhash.add(hash, weight);
            for (bit, vote) in votes.iter_mut().enumerate() {
                *vote += if hash >> bit & 1 == 1 { weight } else { -weight };
            }
            let expected = (0..64)
                .filter(|&bit| votes[bit] > 0)
                .fold(0u64, |h, bit| h | 1 << bit);
            assert_eq!(simhash.finish(), expected, "after {} features", i + 1);
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]

            // Bit for bit what the `simhash` crate computes from the same features.
            #[test]
            fn equals_the_simhash_crate(words in prop::collection::vec("[a-zA-Z0-9äé]{1,8}", 0..400)) {
                let text = words.join(" ");
                let reference = simhash::simhash_stream(Shingles::new(&text, SHINGLE_WORDS));
                prop_assert_eq!(text_simhash(&text), reference);
            }
        }
    }
}
