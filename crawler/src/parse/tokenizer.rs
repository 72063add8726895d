//! HTML's tokenizer (the HTML standard's "tokenization", §13.2.5) over the
//! page's bytes: it finds the next `<` or `&` with `memchr` and hands on
//! whole runs of text and whole tags, where html5ever's tokenizer, which
//! it replaced (issue 17), moved every character of a tag through its
//! state machine and buffers one at a time.
//!
//! It gives what html5ever's gives, token for token: the same tags with
//! the same attributes, text with character references decoded, comments,
//! doctypes, the same raw text in `<script>`, `<style>`, `<title>`... and
//! the same recovery from broken markup. The unit tests compare the two
//! on the standard's corner cases, on random markup and on real pages.
//! What the extraction does not need is left out: comments' text, and
//! the parse errors.

use html5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{Doctype, Tag, TagKind};
use html5ever::{Attribute, LocalName, QualName, local_name, ns};
use memchr::{memchr, memchr2, memchr3, memmem};

/// Where the tokenizer's tokens go.
pub(super) trait Tokens {
    /// Text, character references decoded; text given in several calls
    /// with nothing between them is one text.
    fn text(&mut self, text: &str);
    /// A NUL character in markup's text (the tree drops it; in raw text it
    /// is given as U+FFFD).
    fn null(&mut self);
    /// A tag; what it returns says how the text after it is read.
    fn tag(&mut self, tag: Tag) -> After;
    /// A comment (or what is read as one: `<?...>`, `<!...>`, `</ ...>`,
    /// CDATA sections).
    fn comment(&mut self);
    fn doctype(&mut self, doctype: Doctype);
    /// The end of the page.
    fn end(&mut self);
}

/// How the text after a start tag is read: as markup, or as the raw text
/// of the element the tag opened, up to its end tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum After {
    Markup,
    /// `<title>`, `<textarea>`: character references are decoded.
    Rcdata,
    /// `<style>`, `<noscript>`, `<iframe>`...: nothing is decoded.
    Rawtext,
    /// `<script>`: as raw text, but `<!--` and a `<script>` inside it
    /// hide a `</script>`.
    Script,
    /// `<plaintext>`: the rest of the page is text.
    Plaintext,
}

/// Reads `html` (decoded) into `tokens`, ending with [`Tokens::end`].
pub(super) fn tokenize(html: &str, tokens: &mut impl Tokens) {
    let html = html.strip_prefix('\u{feff}').unwrap_or(html);
    // The standard reads CR LF and a lone CR as LF before anything else.
    let normalized;
    let html = if memchr(b'\r', html.as_bytes()).is_some() {
        normalized = html.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        html
    };
    let mut tokenizer = Tokenizer {
        html,
        bytes: html.as_bytes(),
        at: 0,
        last_start_tag: None,
        value: String::new(),
    };
    tokenizer.run(tokens);
    tokens.end();
}

struct Tokenizer<'a> {
    html: &'a str,
    bytes: &'a [u8],
    /// Where reading goes on.
    at: usize,
    /// The name of the last start tag: the end tag that ends raw text.
    last_start_tag: Option<LocalName>,
    /// The attribute value being read (its allocation reused).
    value: String,
}

/// Where the tokenizer goes after a step: on in the same state, into
/// another (after a tag), or to the end of the page.
enum Flow {
    On,
    Then(After),
    End,
}

/// Where a script's text is: `<!--` escapes it, and a `<script>` in
/// the escape escapes it twice (a `</script>` then ends only that).
#[derive(Clone, Copy, PartialEq)]
enum Escape {
    None,
    Escaped,
    DoubleEscaped,
}

/// Whitespace between a tag's parts.
fn is_tag_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0C' | b' ')
}

impl<'a> Tokenizer<'a> {
    fn run(&mut self, tokens: &mut impl Tokens) {
        let mut state = After::Markup;
        loop {
            let flow = match state {
                After::Markup => self.markup(tokens),
                After::Rcdata | After::Rawtext | After::Script => self.raw_text(state, tokens),
                After::Plaintext => {
                    self.text_replacing_nul(self.at, self.bytes.len(), tokens);
                    Flow::End
                }
            };
            match flow {
                Flow::On => {}
                Flow::Then(next) => state = next,
                Flow::End => return,
            }
        }
    }

    /// The data state: text, character references, and what a `<` starts.
    fn markup(&mut self, tokens: &mut impl Tokens) -> Flow {
        loop {
            let Some(found) = memchr3(b'<', b'&', 0, &self.bytes[self.at..]) else {
                if self.at < self.bytes.len() {
                    tokens.text(&self.html[self.at..]);
                }
                self.at = self.bytes.len();
                return Flow::End;
            };
            let at = self.at + found;
            if at > self.at {
                tokens.text(&self.html[self.at..at]);
            }
            self.at = at + 1;
            match self.bytes[at] {
                b'&' => self.character_reference_in_text(tokens),
                0 => tokens.null(),
                _ => match self.after_less_than(at, tokens) {
                    Flow::On => {}
                    flow => return flow,
                },
            }
        }
    }

    /// A character reference at `self.at` (after its `&`) in text: the
    /// characters it stands for, or the `&` as it is.
    fn character_reference_in_text(&mut self, tokens: &mut impl Tokens) {
        let mut buffer = [0u8; 8];
        match self.character_reference(false) {
            Some((first, second)) => {
                let len = first.encode_utf8(&mut buffer).len();
                let len = match second {
                    Some(second) => len + second.encode_utf8(&mut buffer[len..]).len(),
                    None => len,
                };
                tokens.text(std::str::from_utf8(&buffer[..len]).expect("encoded characters"));
            }
            None => tokens.text("&"),
        }
    }

    /// What follows a `<` at `at` in markup (`self.at` is just after it).
    fn after_less_than(&mut self, at: usize, tokens: &mut impl Tokens) -> Flow {
        let bytes = self.bytes;
        match bytes.get(at + 1) {
            None => {
                tokens.text("<");
                Flow::End
            }
            Some(b'!') => self.markup_declaration(at + 2, tokens),
            Some(b'/') => match bytes.get(at + 2) {
                None => {
                    tokens.text("</");
                    self.at = bytes.len();
                    Flow::End
                }
                Some(letter) if letter.is_ascii_alphabetic() => self.tag(TagKind::EndTag, at + 2, tokens),
                // `</>` is nothing.
                Some(b'>') => {
                    self.at = at + 3;
                    Flow::On
                }
                Some(_) => self.bogus_comment(at + 2, tokens),
            },
            Some(letter) if letter.is_ascii_alphabetic() => self.tag(TagKind::StartTag, at + 1, tokens),
            Some(b'?') => self.bogus_comment(at + 1, tokens),
            // Any other `<` is text; what follows is read again.
            Some(_) => {
                tokens.text("<");
                Flow::On
            }
        }
    }

    /// `<!` seen, `from` just after it.
    fn markup_declaration(&mut self, from: usize, tokens: &mut impl Tokens) -> Flow {
        let rest = &self.bytes[from..];
        if rest.starts_with(b"--") {
            self.comment(from + 2, tokens)
        } else if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"doctype") {
            self.doctype(from + 7, tokens)
        } else {
            // CDATA sections too: the tree reads them as comments outside
            // SVG and MathML, and so does the extraction inside them.
            self.bogus_comment(from, tokens)
        }
    }

    /// A comment's text starts at `from` (after `<!--`): it ends at the
    /// first `-->` or `--!>`, or at once with `<!-->` and `<!--->`.
    fn comment(&mut self, from: usize, tokens: &mut impl Tokens) -> Flow {
        let bytes = self.bytes;
        let rest = &bytes[from..];
        let end = if rest.starts_with(b">") {
            Some(from + 1)
        } else if rest.starts_with(b"->") {
            Some(from + 2)
        } else {
            let mut search = from;
            loop {
                let Some(found) = memmem::find(&bytes[search..], b"--") else {
                    break None;
                };
                let mut after = search + found + 2;
                while bytes.get(after) == Some(&b'-') {
                    after += 1;
                }
                match bytes.get(after) {
                    Some(b'>') => break Some(after + 1),
                    Some(b'!') if bytes.get(after + 1) == Some(&b'>') => break Some(after + 2),
                    _ => search = after,
                }
            }
        };
        tokens.comment();
        match end {
            Some(end) => {
                self.at = end;
                Flow::On
            }
            None => {
                self.at = bytes.len();
                Flow::End
            }
        }
    }

    /// `<?`, `</` followed by what starts no tag, `<!` followed by what
    /// starts no comment or doctype: a comment up to the next `>`.
    fn bogus_comment(&mut self, from: usize, tokens: &mut impl Tokens) -> Flow {
        tokens.comment();
        match memchr(b'>', &self.bytes[from..]) {
            Some(found) => {
                self.at = from + found + 1;
                Flow::On
            }
            None => {
                self.at = self.bytes.len();
                Flow::End
            }
        }
    }

    /// `<!doctype` seen, `from` just after it: the doctype ends at the
    /// next `>`, whatever comes before it.
    fn doctype(&mut self, from: usize, tokens: &mut impl Tokens) -> Flow {
        let (inner, closed, flow) = match memchr(b'>', &self.bytes[from..]) {
            Some(found) => {
                self.at = from + found + 1;
                (&self.html[from..from + found], true, Flow::On)
            }
            None => {
                self.at = self.bytes.len();
                (&self.html[from..], false, Flow::End)
            }
        };
        tokens.doctype(read_doctype(inner, closed));
        flow
    }

    /// A tag whose name starts at `from` (a letter).
    fn tag(&mut self, kind: TagKind, from: usize, tokens: &mut impl Tokens) -> Flow {
        let bytes = self.bytes;
        let end = bytes[from..]
            .iter()
            .position(|&byte| is_tag_space(byte) || byte == b'/' || byte == b'>')
            .map_or(bytes.len(), |found| from + found);
        if end == bytes.len() {
            self.at = end;
            return Flow::End;
        }
        let name = name_of(&self.html[from..end]);
        self.at = end;
        self.rest_of_tag(kind, name, tokens)
    }

    /// A tag after its name, from `self.at`: its attributes, up to the
    /// `>` that ends it. A tag the page ends in is dropped.
    fn rest_of_tag(&mut self, kind: TagKind, name: LocalName, tokens: &mut impl Tokens) -> Flow {
        let bytes = self.bytes;
        let mut tag = Tag {
            kind,
            name,
            self_closing: false,
            attrs: Vec::new(),
            had_duplicate_attributes: false,
        };
        // The before-attribute-name state.
        loop {
            let Some(&byte) = bytes.get(self.at) else {
                return Flow::End;
            };
            self.at += 1;
            match byte {
                _ if is_tag_space(byte) => {}
                b'>' => return self.emit(tag, tokens),
                b'/' => match bytes.get(self.at) {
                    None => return Flow::End,
                    Some(b'>') => {
                        self.at += 1;
                        tag.self_closing = true;
                        return self.emit(tag, tokens);
                    }
                    // Read again as the start of an attribute.
                    Some(_) => {}
                },
                _ => {
                    // An attribute's name, its first character whatever it is.
                    let start = self.at - 1;
                    let first_len = self.html[start..].chars().next().map_or(1, char::len_utf8);
                    let end = bytes[start + first_len..]
                        .iter()
                        .position(|&byte| is_tag_space(byte) || matches!(byte, b'/' | b'>' | b'='))
                        .map_or(bytes.len(), |found| start + first_len + found);
                    if end == bytes.len() {
                        return Flow::End;
                    }
                    let name = name_of(&self.html[start..end]);
                    self.at = end;
                    // After the name: spaces, then a value or not.
                    while bytes.get(self.at).copied().is_some_and(is_tag_space) {
                        self.at += 1;
                    }
                    let Some(&byte) = bytes.get(self.at) else {
                        return Flow::End;
                    };
                    self.value.clear();
                    if byte == b'=' {
                        self.at += 1;
                        match self.attribute_value() {
                            Some(()) => {}
                            None => return Flow::End,
                        }
                    }
                    add_attribute(&mut tag, name, &self.value);
                    // A quoted value must be followed by a space, `/` or
                    // `>`; anything else starts the next attribute.
                }
            }
        }
    }

    /// An attribute's value from `self.at` (after its `=`), into
    /// `self.value`; `None` when the page ends in it.
    fn attribute_value(&mut self) -> Option<()> {
        let bytes = self.bytes;
        while bytes.get(self.at).copied().is_some_and(is_tag_space) {
            self.at += 1;
        }
        let &first = bytes.get(self.at)?;
        match first {
            b'"' | b'\'' => {
                self.at += 1;
                loop {
                    let found = memchr3(first, b'&', 0, &bytes[self.at..])?;
                    let at = self.at + found;
                    self.value.push_str(&self.html[self.at..at]);
                    self.at = at + 1;
                    match bytes[at] {
                        b'&' => self.character_reference_in_value(),
                        0 => self.value.push('\u{FFFD}'),
                        _ => return Some(()),
                    }
                }
            }
            // `=>`: an empty value, and the tag ends.
            b'>' => Some(()),
            _ => loop {
                let found = bytes[self.at..]
                    .iter()
                    .position(|&byte| is_tag_space(byte) || matches!(byte, b'&' | b'>' | 0))?;
                let at = self.at + found;
                self.value.push_str(&self.html[self.at..at]);
                self.at = at;
                match bytes[at] {
                    b'&' => {
                        self.at += 1;
                        self.character_reference_in_value();
                    }
                    0 => {
                        self.at += 1;
                        self.value.push('\u{FFFD}');
                    }
                    // A space or the `>`: read again after the attribute.
                    _ => return Some(()),
                }
            },
        }
    }

    fn character_reference_in_value(&mut self) {
        match self.character_reference(true) {
            Some((first, second)) => {
                self.value.push(first);
                if let Some(second) = second {
                    self.value.push(second);
                }
            }
            None => self.value.push('&'),
        }
    }

    fn emit(&mut self, tag: Tag, tokens: &mut impl Tokens) -> Flow {
        if tag.kind == TagKind::StartTag {
            self.last_start_tag = Some(tag.name.clone());
        }
        Flow::Then(tokens.tag(tag))
    }

    /// The character reference at `self.at` (after its `&`): the
    /// characters it stands for, `self.at` moved past it; or `None`, and
    /// the `&` is an `&`.
    fn character_reference(&mut self, in_attribute: bool) -> Option<(char, Option<char>)> {
        let bytes = self.bytes;
        let start = self.at;
        match *bytes.get(start)? {
            b'#' => {
                let hex = matches!(bytes.get(start + 1), Some(b'x' | b'X'));
                let base: u32 = if hex { 16 } else { 10 };
                let digits = if hex { start + 2 } else { start + 1 };
                let mut at = digits;
                let mut number: u32 = 0;
                let mut too_big = false;
                while let Some(digit) = bytes.get(at).and_then(|&byte| (byte as char).to_digit(base)) {
                    number = number.wrapping_mul(base);
                    too_big |= number > 0x10FFFF;
                    number = number.wrapping_add(digit);
                    at += 1;
                }
                if at == digits {
                    return None;
                }
                if bytes.get(at) == Some(&b';') {
                    at += 1;
                }
                self.at = at;
                Some((numeric_character(number, too_big), None))
            }
            byte if byte.is_ascii_alphanumeric() => {
                // The longest name in the table that the text starts with;
                // the table holds every prefix of every name, so the first
                // miss ends the search.
                let mut longest: Option<(usize, (u32, u32))> = None;
                for (offset, character) in self.html[start..].char_indices() {
                    let end = start + offset + character.len_utf8();
                    match NAMED_ENTITIES.get(&self.html[start..end]) {
                        Some(&found) => {
                            if found.0 != 0 {
                                longest = Some((end, found));
                            }
                        }
                        None => break,
                    }
                }
                let (end, (first, second)) = longest?;
                let ends_in_semicolon = bytes[end - 1] == b';';
                // In an attribute, `&amp=` and `&ampx` without their
                // semicolon are text (old URLs' query strings).
                if !ends_in_semicolon
                    && in_attribute
                    && bytes
                        .get(end)
                        .is_some_and(|&next| next == b'=' || next.is_ascii_alphanumeric())
                {
                    return None;
                }
                self.at = end;
                let first = char::from_u32(first).expect("the table holds characters");
                let second =
                    (second != 0).then(|| char::from_u32(second).expect("the table holds characters"));
                Some((first, second))
            }
            _ => None,
        }
    }

    /// The raw text of the element just opened, up to its end tag, which
    /// is read and given too.
    fn raw_text(&mut self, kind: After, tokens: &mut impl Tokens) -> Flow {
        let start = self.at;
        let end_tag = self.last_start_tag.clone().unwrap_or_else(|| LocalName::from(""));
        let end = if kind == After::Script {
            self.script_end(start, &end_tag)
        } else {
            let mut search = start;
            loop {
                let Some(found) = memmem::find(&self.bytes[search..], b"</") else {
                    break None;
                };
                let at = search + found;
                if self.is_end_tag(at, &end_tag) {
                    break Some(at);
                }
                search = at + 1;
            }
        };
        let text_end = end.unwrap_or(self.bytes.len());
        if kind == After::Rcdata {
            self.text_decoding(start, text_end, tokens);
        } else {
            self.text_replacing_nul(start, text_end, tokens);
        }
        let Some(end) = end else {
            self.at = self.bytes.len();
            return Flow::End;
        };
        self.at = end + 2 + end_tag.len();
        self.rest_of_tag(TagKind::EndTag, end_tag, tokens)
    }

    /// Whether `</` at `at` starts `</name` followed by a space, `/` or
    /// `>` (any case): the end tag that ends raw text.
    fn is_end_tag(&self, at: usize, name: &str) -> bool {
        let from = at + 2;
        let end = from + name.len();
        !name.is_empty()
            && end < self.bytes.len()
            && self.bytes[from..end].eq_ignore_ascii_case(name.as_bytes())
            && (is_tag_space(self.bytes[end]) || matches!(self.bytes[end], b'/' | b'>'))
    }

    /// Where a script's `</script` is, from `start`: the standard's script
    /// data states, whose escapes (`<!--`, and `<script>` inside one)
    /// keep a `</script>` from ending it.
    fn script_end(&self, start: usize, name: &str) -> Option<usize> {
        let bytes = self.bytes;
        let mut escape = Escape::None;
        let mut at = start;
        loop {
            if escape == Escape::None {
                let found = memchr(b'<', &bytes[at..])?;
                at += found;
                match bytes.get(at + 1) {
                    Some(b'/') if self.is_end_tag(at, name) => return Some(at),
                    Some(b'!') if bytes[at + 2..].starts_with(b"--") => {
                        // `<!--` leaves the reading in the dash-dash state.
                        (at, escape) = self.after_dashes(at + 4, Escape::Escaped);
                    }
                    _ => at += 1,
                }
                continue;
            }
            let found = memchr2(b'-', b'<', &bytes[at..])?;
            at += found;
            if bytes[at] == b'-' {
                // One dash, then maybe a second and the dash-dash state.
                match bytes.get(at + 1) {
                    Some(b'-') => (at, escape) = self.after_dashes(at + 2, escape),
                    _ => at += 1,
                }
                continue;
            }
            // A `<` in an escape.
            let next = at + 1;
            match (escape, bytes.get(next)) {
                (Escape::Escaped, Some(b'/')) => {
                    if self.is_end_tag(at, name) {
                        return Some(at);
                    }
                    at = next + 1;
                }
                (_, Some(letter)) if letter.is_ascii_alphabetic() && escape == Escape::Escaped => {
                    // `<script` followed by a space, `/` or `>` starts the
                    // double escape.
                    let is_script;
                    (at, is_script) = self.script_word(next);
                    if is_script {
                        escape = Escape::DoubleEscaped;
                    }
                }
                (Escape::DoubleEscaped, Some(b'/')) => {
                    // `</script` followed by a space, `/` or `>` ends it.
                    let is_script;
                    (at, is_script) = self.script_word(next + 1);
                    if is_script {
                        escape = Escape::Escaped;
                    }
                }
                _ => at = next,
            }
        }
    }

    /// The escaped-dash-dash state from `at`: more dashes, then a `>`
    /// that ends the escape (double or not); anything else is read on in
    /// the escape.
    fn after_dashes(&self, mut at: usize, escape: Escape) -> (usize, Escape) {
        while self.bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        if self.bytes.get(at) == Some(&b'>') {
            return (at + 1, Escape::None);
        }
        (at, escape)
    }

    /// The ASCII letters from `from`, and the character after them when it
    /// is a space, `/` or `>`: where reading goes on, and whether they
    /// spell `script` (any case) and were so followed.
    fn script_word(&self, from: usize) -> (usize, bool) {
        let length = self.bytes[from..]
            .iter()
            .take_while(|byte| byte.is_ascii_alphabetic())
            .count();
        let end = from + length;
        match self.bytes.get(end) {
            Some(&delimiter) if is_tag_space(delimiter) || matches!(delimiter, b'/' | b'>') => {
                (end + 1, self.bytes[from..end].eq_ignore_ascii_case(b"script"))
            }
            _ => (end, false),
        }
    }

    /// Text from `from` to `to`, NUL characters replaced by U+FFFD.
    fn text_replacing_nul(&self, from: usize, to: usize, tokens: &mut impl Tokens) {
        let mut at = from;
        while at < to {
            match memchr(0, &self.bytes[at..to]) {
                Some(found) => {
                    if found > 0 {
                        tokens.text(&self.html[at..at + found]);
                    }
                    tokens.text("\u{FFFD}");
                    at += found + 1;
                }
                None => {
                    tokens.text(&self.html[at..to]);
                    at = to;
                }
            }
        }
    }

    /// Text from `from` to `to`, character references decoded and NUL
    /// characters replaced (the text of a `<title>`).
    fn text_decoding(&mut self, from: usize, to: usize, tokens: &mut impl Tokens) {
        let mut at = from;
        while at < to {
            match memchr2(b'&', 0, &self.bytes[at..to]) {
                Some(found) => {
                    let found = at + found;
                    self.text_replacing_nul(at, found, tokens);
                    if self.bytes[found] == 0 {
                        tokens.text("\u{FFFD}");
                        at = found + 1;
                    } else {
                        // A reference never reaches into the end tag: `<`
                        // is in no name.
                        self.at = found + 1;
                        self.character_reference_in_text(tokens);
                        at = self.at;
                    }
                }
                None => {
                    self.text_replacing_nul(at, to, tokens);
                    at = to;
                }
            }
        }
    }
}

/// A tag's or attribute's name: ASCII letters in lower case, NUL as
/// U+FFFD.
fn name_of(written: &str) -> LocalName {
    if let Some(name) = common_name(written) {
        return name;
    }
    if written.bytes().any(|byte| byte.is_ascii_uppercase() || byte == 0) {
        let name: String = written
            .chars()
            .map(|character| match character {
                '\0' => '\u{FFFD}',
                _ => character.to_ascii_lowercase(),
            })
            .collect();
        LocalName::from(name)
    } else {
        LocalName::from(written)
    }
}

/// The names most tags of documentation pages are made of, each compared
/// as bytes and given as its static atom: `LocalName::from` hashes every
/// name to find its atom (1.5% of a crawl's CPU, BENCHMARKS.md §21).
macro_rules! common_names {
    ($($name:tt)*) => {
        fn common_name(written: &str) -> Option<LocalName> {
            match written {
                $($name => Some(local_name!($name)),)*
                _ => None,
            }
        }
    };
}

common_names!(
    "a" "b" "body" "br" "button" "class" "code" "content" "dd" "details" "div" "dl" "dt" "em"
    "h1" "h2" "h3" "h4" "h5" "h6" "head" "href" "html" "i" "id" "img" "li" "link" "meta" "name"
    "nav" "ol" "p" "pre" "rel" "script" "section" "span" "src" "strong" "style" "summary"
    "table" "tbody" "td" "th" "thead" "title" "tr" "type" "ul"
);

/// Adds an attribute to `tag`, unless it has one of that name already
/// (the first one counts).
fn add_attribute(tag: &mut Tag, name: LocalName, value: &str) {
    if tag.attrs.iter().any(|attribute| attribute.name.local == name) {
        tag.had_duplicate_attributes = true;
        return;
    }
    tag.attrs.push(Attribute {
        name: QualName::new(None, ns!(), name),
        value: StrTendril::from_slice(value),
    });
}

/// The character a numeric reference stands for: U+FFFD for none, and
/// Windows-1252's characters for the C1 controls (as browsers read them).
fn numeric_character(number: u32, too_big: bool) -> char {
    match number {
        _ if too_big || number > 0x10FFFF => '\u{FFFD}',
        0 | 0xD800..=0xDFFF => '\u{FFFD}',
        0x80..=0x9F => C1_REPLACEMENTS[(number - 0x80) as usize]
            .unwrap_or_else(|| char::from_u32(number).expect("a C1 control is a character")),
        _ => char::from_u32(number).expect("not a surrogate, not too big"),
    }
}

/// A doctype from what follows `<!doctype` up to its `>` (`closed`) or
/// the end of the page: its name, public and system identifiers, and
/// whether it is broken enough to put the page in quirks mode.
fn read_doctype(inner: &str, closed: bool) -> Doctype {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        BeforeName,
        Name,
        AfterName,
        AfterKeyword(Id),
        BeforeIdentifier(Id),
        Quoted(Id, char),
        AfterIdentifier(Id),
        Between,
        Bogus,
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Id {
        Public,
        System,
    }
    fn id_of(doctype: &mut Doctype, id: Id) -> &mut Option<StrTendril> {
        match id {
            Id::Public => &mut doctype.public_id,
            Id::System => &mut doctype.system_id,
        }
    }
    fn is_space(character: char) -> bool {
        matches!(character, '\t' | '\n' | '\x0C' | ' ')
    }
    let mut doctype = Doctype::default();
    let mut state = State::BeforeName;
    let mut rest = inner;
    while let Some(character) = rest.chars().next() {
        if state == State::AfterName {
            // `public` and `system` are read whole, in any case.
            let keyword = rest.get(..6).map(str::to_ascii_lowercase);
            let id = match keyword.as_deref() {
                Some("public") => Some(Id::Public),
                Some("system") => Some(Id::System),
                _ => None,
            };
            if let Some(id) = id {
                state = State::AfterKeyword(id);
                rest = &rest[6..];
                continue;
            }
        }
        rest = &rest[character.len_utf8()..];
        let character = if character == '\0' { '\u{FFFD}' } else { character };
        state = match state {
            State::BeforeName if is_space(character) => state,
            State::BeforeName => {
                doctype.name = Some(StrTendril::from_char(character.to_ascii_lowercase()));
                State::Name
            }
            State::Name if is_space(character) => State::AfterName,
            State::Name => {
                if let Some(name) = doctype.name.as_mut() {
                    name.push_char(character.to_ascii_lowercase());
                }
                state
            }
            State::AfterName | State::Between | State::BeforeIdentifier(_) if is_space(character) => state,
            State::AfterKeyword(id) if is_space(character) => State::BeforeIdentifier(id),
            State::AfterKeyword(id) | State::BeforeIdentifier(id) if matches!(character, '"' | '\'') => {
                *id_of(&mut doctype, id) = Some(StrTendril::new());
                State::Quoted(id, character)
            }
            State::AfterIdentifier(Id::Public) | State::Between if matches!(character, '"' | '\'') => {
                doctype.system_id = Some(StrTendril::new());
                State::Quoted(Id::System, character)
            }
            State::Quoted(id, quote) if character == quote => State::AfterIdentifier(id),
            State::Quoted(id, _) => {
                if let Some(value) = id_of(&mut doctype, id).as_mut() {
                    value.push_char(character);
                }
                state
            }
            State::AfterIdentifier(Id::Public) if is_space(character) => State::Between,
            State::AfterIdentifier(Id::System) if is_space(character) => state,
            State::AfterIdentifier(Id::System) | State::Bogus => State::Bogus,
            State::AfterName
            | State::AfterKeyword(_)
            | State::BeforeIdentifier(_)
            | State::AfterIdentifier(_)
            | State::Between => {
                doctype.force_quirks = true;
                State::Bogus
            }
        };
    }
    // What the `>`, or the end of the page, finds.
    doctype.force_quirks |= match state {
        State::BeforeName => true,
        State::AfterKeyword(_) | State::BeforeIdentifier(_) | State::Quoted(..) => true,
        State::Bogus => false,
        State::Name | State::AfterName | State::AfterIdentifier(_) | State::Between => !closed,
    };
    doctype
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use html5ever::tokenizer::states::RawKind;
    use html5ever::tokenizer::{BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
    use proptest::prelude::*;

    use super::*;

    /// A token, as the comparison sees it.
    #[derive(Debug, PartialEq)]
    enum Event {
        Text(String),
        Null,
        Tag {
            end: bool,
            name: String,
            self_closing: bool,
            attrs: Vec<(String, String)>,
            duplicates: bool,
        },
        Comment,
        Doctype(Doctype),
        End,
    }

    /// Records the tokens, reading raw text after the elements whose text
    /// the extraction reads raw.
    #[derive(Default)]
    struct Recorder(Vec<Event>);

    impl Tokens for Recorder {
        fn text(&mut self, text: &str) {
            match self.0.last_mut() {
                Some(Event::Text(last)) => last.push_str(text),
                _ => self.0.push(Event::Text(text.to_string())),
            }
        }

        fn null(&mut self) {
            self.0.push(Event::Null);
        }

        fn tag(&mut self, tag: Tag) -> After {
            let after = match &*tag.name {
                _ if tag.kind == TagKind::EndTag => After::Markup,
                "script" => After::Script,
                "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => After::Rawtext,
                "title" | "textarea" => After::Rcdata,
                "plaintext" => After::Plaintext,
                _ => After::Markup,
            };
            self.0.push(Event::Tag {
                end: tag.kind == TagKind::EndTag,
                name: tag.name.to_string(),
                self_closing: tag.self_closing,
                attrs: tag
                    .attrs
                    .iter()
                    .map(|attribute| (attribute.name.local.to_string(), attribute.value.to_string()))
                    .collect(),
                duplicates: tag.had_duplicate_attributes,
            });
            after
        }

        fn comment(&mut self) {
            self.0.push(Event::Comment);
        }

        fn doctype(&mut self, doctype: Doctype) {
            self.0.push(Event::Doctype(doctype));
        }

        fn end(&mut self) {
            self.0.push(Event::End);
        }
    }

    /// html5ever's tokenizer, its tokens handed to [`Tokens`].
    struct Html5ever(RefCell<Recorder>);

    impl TokenSink for Html5ever {
        type Handle = ();

        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            let mut recorder = self.0.borrow_mut();
            match token {
                Token::CharacterTokens(text) => recorder.text(&text),
                Token::NullCharacterToken => recorder.null(),
                Token::TagToken(tag) => {
                    return match recorder.tag(tag) {
                        After::Markup => TokenSinkResult::Continue,
                        After::Rcdata => TokenSinkResult::RawData(RawKind::Rcdata),
                        After::Rawtext => TokenSinkResult::RawData(RawKind::Rawtext),
                        After::Script => TokenSinkResult::RawData(RawKind::ScriptData),
                        After::Plaintext => TokenSinkResult::Plaintext,
                    };
                }
                Token::CommentToken(_) => recorder.comment(),
                Token::DoctypeToken(doctype) => recorder.doctype(doctype),
                Token::EOFToken => recorder.end(),
                Token::ParseError(_) => {}
            }
            TokenSinkResult::Continue
        }
    }

    fn by_html5ever(html: &str) -> Vec<Event> {
        let tokenizer = Tokenizer::new(Html5ever(RefCell::default()), TokenizerOpts::default());
        let input = BufferQueue::default();
        input.push_back(StrTendril::from_slice(html));
        let _ = tokenizer.feed(&input);
        tokenizer.end();
        tokenizer.sink.0.into_inner().0
    }

    fn by_trawl(html: &str) -> Vec<Event> {
        let mut recorder = Recorder::default();
        tokenize(html, &mut recorder);
        recorder.0
    }

    fn assert_same_tokens(html: &str) {
        assert_eq!(by_trawl(html), by_html5ever(html), "{html:?}");
    }

    #[test]
    fn tags_attributes_and_text_are_read_as_html5ever_reads_them() {
        for html in [
            "",
            "plain text",
            "<p>one</p><P CLASS=A>two</P>",
            "<a href=\"x?a=1&amp;b=2\" title='it&apos;s' data-x=y&z>link</a>",
            "<div id=a id=b class = \"c\" hidden>dup</div>",
            "<img src=x.png/><br/><input disabled / >",
            "<a href=x/>self</a><a href=\"y\"/x>odd</a>",
            "<a ==x =y <b c\"d='e'>weird names</a>",
            "<a href=\"x\"title=\"t\">no space</a>",
            "<a b c=>empty</a><a d= >e</a><a f=>g</a>",
            "<div\tid=x\nclass=y\x0C>ws</div>",
            "<di\0v a\0=b\0c>nul</di\0v>",
            "a\0b<p>c\0d</p>",
            "<UnKnOwN-Tag:x Attr:Y=1>custom</UnKnOwN-Tag:x>",
            "1 < 2 and 3 > 2, a <= b, <3, < p>, <>, </>, </ p>, </3>",
            "<?xml version=\"1.0\"?><!-- c --><!---->x<!--->y<!-->z",
            "<!-- a -- b --!> c --> d",
            "<!--<!-- nested --> e",
            "<!-- --!-> still --> f",
            "<!-- ---> g <!-- --!> h",
            "<![CDATA[ x ]]> <!ELEMENT br EMPTY> <! > i",
            "<!DOCTYPE html><p>x",
            "<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">",
            "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0 Transitional//EN'>",
            "<!DOCTYPE html SYSTEM \"about:legacy-compat\">",
            "<!DOCTYPE html PUBLIC\"x\"\"y\">",
            "<!DOCTYPE html public \"a>b\">c",
            "<!DOCTYPE html bogus \"x\"><!DOCTYPE><!DOCTYPE >",
            "<!DOCTYPE html SYSTEM 'x' junk>",
            "<!DOCTYPE html PUB>",
            "<!DOCTYPE\0X>",
            "<!DOCTYPE html PUBLIC \"",
            "<!DOCTYPE html ",
            "<!DOCTYPE",
            "&amp; &lt;&gt; &AMP &amp &ampx &notit; &notin; &#65; &#x41; &#X41 &#; &#x; &#xZ &#0; &#128; &#x9F; &#xD800; &#1114112; &#99999999999;",
            "&nbsp&copy2 &thetasym; &foo; &; & &# &#x",
            "&NotEqualTilde; &acE; &bne;",
            "<a href='&amp=x&ampy&amp;z&lt=&lt;&copy2&#38;x'>refs in values</a>",
            "<a href=&amp=x&notin;y&not>u</a>",
            "<title>a &amp; b <b>not bold</b> </title >after",
            "<title>x</titlex> </TITLE>y",
            "<textarea>a</textarea\0> </textarea/>b",
            "<style>a < b { x: '</style' } </style x=y>c",
            "<script>if (a < b && c) { x = '</scr' + 'ipt>'; }</script>d",
            "<script><!-- document.write('<script>x</script>'); --></script>e",
            "<script><!--<script></script>--></script>f",
            "<script><!-- x --!> y </script>g",
            "<script><!--- x ---> y </script>h",
            "<script><!-- <scripts> </script>i",
            "<script><!-- <script>a</scripts></script>b--></script>j",
            "<script><!-- <SCRIPT/>a</Script\t>b-</script>k",
            "<script><!--<script>--></script>l",
            "<script><!--<script>-->x</script>m",
            "<script><!-x</script>n",
            "<script><!-- x -<-- y </script>o",
            "<script><!-- x </script>",
            "<script>x</script",
            "<script>x</",
            "<script>x<",
            "<script><!--<script>",
            "<noscript><a href=x>no</a></noscript>p",
            "<xmp><b></xmp><iframe><p></iframe><noembed>&amp;</noembed><noframes>q</noframes>",
            "<plaintext></plaintext><p>&amp;\0",
            "<p>x\r\ny\rz\r</p>\r\n<a\rhref\r=\r'a\rb'>c</a>",
            "\u{feff}<p>bom</p>",
            "<p>é日本 <a href=\"ü\">ä</a>\u{1F600}</p>",
            "<a href",
            "<a href=",
            "<a href=\"x",
            "<a href=x",
            "<a href='x'",
            "<a/",
            "<a ",
            "<a",
            "</a",
            "<",
            "</",
            "<!",
            "<!-",
            "<!--",
            "<!-- x",
            "&",
            "&am",
            "&amp",
            "&#x4",
        ] {
            assert_same_tokens(html);
        }
    }

    /// Fragments that matter to the tokenizer, glued at random.
    fn markup_soup() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "<",
            ">",
            "</",
            "/",
            "/>",
            "!",
            "<!",
            "<!-",
            "<!--",
            "-->",
            "--!>",
            "-",
            "--",
            "?",
            "<?",
            "=",
            "\"",
            "'",
            "&",
            "&amp",
            "&amp;",
            "&#",
            "&#x",
            "&#x41",
            "&#65;",
            "&notin",
            "&not",
            ";",
            "#",
            "x",
            "X",
            "a",
            "p",
            "div",
            "href",
            "id",
            "script",
            "SCRIPT",
            "title",
            "style",
            "textarea",
            "plaintext",
            "doctype",
            "DOCTYPE",
            "public",
            "system",
            "html",
            " ",
            "\t",
            "\n",
            "\r",
            "\r\n",
            "\0",
            "é",
            "日",
            "\u{feff}",
            "<p>",
            "<a href=x>",
            "</a>",
            "<script>",
            "</script>",
            "<title>",
            "</title>",
            "<style>",
            "</style>",
            "<!DOCTYPE html>",
            "[CDATA[",
            "]]>",
            "0",
            "9",
            "`",
        ]);
        prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn random_markup_is_read_as_html5ever_reads_it(html in markup_soup()) {
            prop_assert_eq!(by_trawl(&html), by_html5ever(&html), "{:?}", html);
        }

        #[test]
        fn any_text_is_read_as_html5ever_reads_it(html in any::<String>()) {
            prop_assert_eq!(by_trawl(&html), by_html5ever(&html), "{:?}", html);
        }
    }

    /// The whole Rust and Python docs are compared, as extractions, by
    /// `cargo bench -p crawler --bench extract_compare`; a sample of the
    /// Rust docs here, token by token.
    #[test]
    fn pages_of_the_rust_docs_are_read_as_html5ever_reads_them() {
        let files = super::super::tests::rust_doc_pages();
        for path in files.iter().step_by(files.len() / 300) {
            let html = crate::fetch::decode_html(&std::fs::read(path).unwrap(), None);
            let trawl = by_trawl(&html);
            assert!(trawl.len() > 10, "{}", path.display());
            assert!(trawl == by_html5ever(&html), "{}", path.display());
        }
    }
}
