//! Where a page's sections start in its `body` field, counted in token
//! positions: what lets a search score a page by its best section without
//! reading the page's text again (query-api's `sections` module).
//!
//! The body's tokens are the [`crate::analyzer::TEXT_ANALYZER`]'s: runs of
//! alphanumeric characters (tantivy's `SimpleTokenizer`), each one
//! position further, including the ones the analyzer then drops (40
//! bytes or more). So the position a byte offset of the text starts at is the
//! number of such runs that begin before it, and counting them needs no
//! analysis. A test holds the count to the analyzer's own positions.

use common::message::Section;

/// The token position at which each section of `sections` starts in
/// `text` (`Section::start` is a byte offset into it), ascending, without
/// repeats, then the position where the last one ends: the text's number
/// of tokens (the body's field norm is only close to it past 40 tokens).
/// A section whose offset lies past the text starts at the text's end.
/// Empty when there are no sections.
pub fn section_bounds(text: &str, sections: &[Section]) -> Vec<u32> {
    if sections.is_empty() {
        return Vec::new();
    }
    let mut offsets: Vec<usize> = sections.iter().map(|section| section.start as usize).collect();
    offsets.sort_unstable();
    let mut bounds = if text.is_ascii() {
        ascii_bounds(text.as_bytes(), &offsets)
    } else {
        char_bounds(text, &offsets)
    };
    // The sections' starts without repeats; the end stays, whatever it is.
    let end = bounds.pop();
    bounds.dedup();
    bounds.extend(end);
    bounds
}

/// [`section_bounds`] of an ASCII text, before repeats are dropped: every
/// byte starts a character, so an offset's bound is the number of tokens
/// that start before it, counted a run of bytes at a time.
fn ascii_bounds(bytes: &[u8], offsets: &[usize]) -> Vec<u32> {
    let mut bounds = Vec::with_capacity(offsets.len() + 1);
    let (mut tokens, mut counted) = (0u32, 0);
    // Offsets come sorted, so `to` never goes back. A token starts at an
    // alphanumeric byte after one that is not (or at the text's start):
    // each byte is compared with the one before it, not with a running
    // state, which lets the compiler count many bytes at once.
    let mut count_to = |to: usize, tokens: &mut u32| {
        if counted == 0 && to > 0 {
            *tokens += u32::from(bytes[0].is_ascii_alphanumeric());
            counted = 1;
        }
        if to > counted {
            *tokens += bytes[counted..to]
                .iter()
                .zip(&bytes[counted - 1..to - 1])
                .map(|(byte, before)| {
                    u32::from(byte.is_ascii_alphanumeric() & !before.is_ascii_alphanumeric())
                })
                .sum::<u32>();
            counted = to;
        }
    };
    for &offset in offsets {
        count_to(offset.min(bytes.len()), &mut tokens);
        bounds.push(tokens);
    }
    count_to(bytes.len(), &mut tokens);
    bounds.push(tokens);
    bounds
}

/// [`section_bounds`] of any text, before repeats are dropped, a
/// character at a time.
fn char_bounds(text: &str, offsets: &[usize]) -> Vec<u32> {
    let mut bounds = Vec::with_capacity(offsets.len() + 1);
    let mut next = offsets.iter().peekable();
    let mut tokens = 0u32;
    let mut in_token = false;
    for (byte, c) in text.char_indices() {
        while next.next_if(|&&offset| offset <= byte).is_some() {
            bounds.push(tokens);
        }
        let alphanumeric = c.is_alphanumeric();
        if alphanumeric && !in_token {
            tokens += 1;
        }
        in_token = alphanumeric;
    }
    // Offsets at or past the end of the text.
    bounds.extend(next.map(|_| tokens));
    bounds.push(tokens);
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

    fn section(start: usize) -> Section {
        Section {
            anchor: format!("s{start}"),
            heading_path: Vec::new(),
            start: start as u32,
        }
    }

    /// The analyzer's position of the first token at or after `byte`.
    fn analyzer_position(text: &str, byte: usize) -> u32 {
        // The analyzer drops long tokens but keeps their positions: the
        // raw tokenizer's positions are the ones to compare with.
        let mut analyzer =
            tantivy::tokenizer::TextAnalyzer::from(tantivy::tokenizer::SimpleTokenizer::default());
        let mut stream = analyzer.token_stream(text);
        let mut last = 0;
        while let Some(token) = stream.next() {
            if token.offset_from >= byte {
                return token.position as u32;
            }
            last = token.position as u32 + 1;
        }
        last
    }

    #[test]
    fn ascii_bounds_are_char_bounds() {
        let texts = [
            "",
            "a",
            " a b",
            "Intro, text here. x_y z9 (10) end",
            "  lead and trail  ",
        ];
        for text in texts {
            for count in 0..4 {
                // Offsets anywhere, past the end and repeated among them.
                let offsets: Vec<usize> = (0..count).map(|i| (i * 7 + count) % (text.len() + 3)).collect();
                let mut offsets = offsets;
                offsets.sort_unstable();
                assert_eq!(
                    ascii_bounds(text.as_bytes(), &offsets),
                    char_bounds(text, &offsets),
                    "{text:?} at {offsets:?}"
                );
            }
            for offset in 0..=text.len() + 1 {
                assert_eq!(
                    ascii_bounds(text.as_bytes(), &[offset]),
                    char_bounds(text, &[offset])
                );
            }
        }
    }

    #[test]
    fn bounds_are_the_analyzers_positions() {
        let text = "Intro text here. Vec::with_capacity(10) — naïve café 東京 x_y \
                    averyveryveryveryveryveryveryveryverylongwordoverfortybytes end. Last words";
        let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        offsets.push(text.len());
        let total = analyzer_position(text, text.len());
        for &offset in &offsets {
            let bounds = section_bounds(text, &[section(offset)]);
            assert_eq!(
                bounds,
                vec![analyzer_position(text, offset), total],
                "at byte {offset}"
            );
        }
        // The analyzer the index uses gives the same positions.
        let mut analyzer = crate::analyzer::text_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut positions = Vec::new();
        while let Some(token) = stream.next() {
            positions.push((token.offset_from, token.position as u32));
        }
        for (offset, position) in positions {
            assert_eq!(section_bounds(text, &[section(offset)])[0], position);
        }
    }

    #[test]
    fn several_sections_in_any_order_and_past_the_end() {
        let text = "one two three four five";
        let bounds = section_bounds(
            text,
            &[section(8), section(0), section(4), section(4), section(99)],
        );
        // Starts at 0, 1, 2 and 5 (the end), then the end.
        assert_eq!(bounds, vec![0, 1, 2, 5, 5]);
        assert!(section_bounds(text, &[]).is_empty());
        assert_eq!(section_bounds(text, &[section(8)]), vec![2, 5]);
    }
}
