//! Identifiers as search terms: the names that documentation defines
//! (`str.split`, `HashMap::entry`, `computeIfAbsent(K,Function)`,
//! `__slots__`, `GUC-WORK-MEM`) compared whole, the way people type them.
//!
//! The body's analyzer splits `str.split` into "str" and "split", which
//! every page about strings has. A page that defines `str.split` carries it
//! as the id of the section that documents it; those ids, in their
//! [`identifier_form`] and with their leading qualifiers dropped one by one
//! ([`anchor_keys`]), are the terms of the index's `identifiers` field. The
//! words of a page's text that are written as code (`jsonb_set`,
//! `os.path.join()`: [`code_terms`]) are the terms of its `code_terms`
//! field. An identifier in a query ([`query_identifiers`]) matches both
//! exactly, a definition weighing more than a mention.

/// An identifier or an anchor compared as one: lower case, `::` written
/// `.`, without an argument list (`split(java.lang.String)` is `split`)
/// and without surrounding dots.
pub fn identifier_form(text: &str) -> String {
    let mut form = String::new();
    identifier_form_into(text, &mut form);
    form
}

/// [`identifier_form`] written over `form`: for a caller that compares
/// thousands of anchors (a long page's), one buffer for them all.
pub fn identifier_form_into(text: &str, form: &mut String) {
    form.clear();
    let text = text.trim();
    if !text.is_ascii() {
        // Unicode lower-casing depends on the context (a final sigma).
        let lowered = text.to_lowercase().replace("::", ".");
        let head = lowered.split('(').next().unwrap_or_default();
        form.push_str(head.trim_matches('.'));
        return;
    }
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() && bytes[at] != b'(' {
        if bytes[at..].starts_with(b"::") {
            form.push('.');
            at += 2;
        } else {
            form.push(char::from(bytes[at].to_ascii_lowercase()));
            at += 1;
        }
    }
    let end = form.trim_end_matches('.').len();
    form.truncate(end);
    let leading_dots = form.len() - form.trim_start_matches('.').len();
    form.drain(..leading_dots);
}

/// Longer keys are not identifiers (and tantivy's terms have a limit).
const MAX_KEY_BYTES: usize = 100;

/// Whether an [`identifier_form`] may be an `identifiers` term: short
/// enough, with a letter or digit, and without a control character, which
/// only the marks of [`page_name_key`] and [`title_keys`] hold (an anchor
/// written `id="&#1;..."` must not pass for a page's name or title).
fn is_key(form: &str) -> bool {
    form.len() <= MAX_KEY_BYTES
        && form.chars().any(char::is_alphanumeric)
        && !form.chars().any(char::is_control)
}

/// The terms an anchor adds to the `identifiers` field: its whole
/// [`identifier_form`] and every tail after a dot, so that `os.path.join`
/// is found as `os.path.join`, `path.join` and `join`, and rustdoc's
/// `method.with_capacity` as `with_capacity`. A hyphenated anchor (DocBook's
/// `GUC-WORK-MEM`) also gives its tails of two words or more with
/// underscores, the way the setting is written (`work_mem`). When the
/// page is named for one thing (its title starts with a name: `Vec in
/// std::vec`, `HashMap (Java SE 17)`), the anchor's last part qualified by
/// that name is a key too (`vec.with_capacity`, `hashmap.computeifabsent`),
/// as people write a method with its type. An anchor without a letter or
/// digit adds nothing.
pub fn anchor_keys(anchor: &str, page_name: Option<&str>) -> Vec<String> {
    let form = identifier_form(anchor);
    if !is_key(&form) {
        return Vec::new();
    }
    let mut keys = vec![form.clone()];
    let mut add = |key: &str| {
        if key.chars().any(char::is_alphanumeric) && !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    };
    // An id of words that ends in a name (javadoc's
    // `methods-inherited-from-class-java.util.ArrayList`) is about that
    // name, it does not define it: only a dotted name gives its tails.
    let prose = form.split('.').next().is_some_and(|first| first.contains('-'));
    for (dot, _) in form.match_indices('.') {
        if !prose {
            add(&form[dot + 1..]);
        }
    }
    if form.contains('-') && !form.contains(['.', '_']) {
        let snake = form.replace('-', "_");
        for (dash, _) in snake.match_indices('_') {
            let tail = &snake[dash + 1..];
            if tail.contains('_') {
                add(tail);
            }
        }
    }
    if let Some(name) = page_name {
        let last = form.rsplit('.').next().unwrap_or_default();
        if !last.is_empty() && last != name {
            add(&format!("{name}.{last}"));
        }
    }
    keys
}

/// The `identifiers` term that says a section is anchored by a bare name
/// itself (Python's built-in `open`, the anchor `open`), beside the plain
/// name it shares with every qualified anchor that ends in it (`os.open`,
/// `io.open` and forty methods named `open` all give the key `open`:
/// [`anchor_keys`]). A name typed bare prefers the section that defines it
/// bare. None for an anchor with a qualifier, for a member's with its
/// argument list (javadoc's `size()`, which is a member, not a built-in),
/// or that is no name (DocBook's `GUC-WORK-MEM`): the key would never be
/// asked for. The name is followed by a control character, as in
/// [`page_name_key`].
pub fn bare_anchor_key(anchor: &str) -> Option<String> {
    // A page has hundreds of anchors, nearly all qualified or of words
    // (rustdoc's `method.push`, `impl-Clone-for-Vec`): turned away by a
    // look at their characters, before any form is made. A plain name's
    // form is the name in lower case.
    let anchor = anchor.trim();
    if !is_plain_name(anchor) {
        return None;
    }
    let form = identifier_form(anchor);
    is_key(&form).then(|| bare_name_key(&form))
}

/// The term of [`bare_anchor_key`] that a name written as code, bare
/// (`enumerate()`, in its [`identifier_form`]), asks for.
pub fn bare_name_key(form: &str) -> String {
    format!("{form}{BARE_ANCHOR_MARK}")
}

/// What follows a name in [`bare_anchor_key`].
const BARE_ANCHOR_MARK: char = '\u{3}';

/// The name a page is about, when its title starts with one, in its
/// [`identifier_form`]: `vec` of "Vec in std::vec - Rust", `hashmap` of
/// "HashMap (Java SE 17 & JDK 17)", `map.entry` of "Map.Entry (Java SE
/// 17 & JDK 17)", `java.util.stream` of the package's page, `os.path` of
/// "os.path — Common pathname manipulations". None for a title that
/// starts with a word of prose or a number ("Built-in Types", "20.4.
/// Resource Consumption"): a first word of names (letters, digits and
/// underscores, from a letter) joined by `.` or `::` reads as a name when
/// it is written as code (joined, or a capital or an underscore after its
/// first letter) or the title goes on as rustdoc's and javadoc's do ("in
/// std::vec", "(Java"). A Doxygen page of a class or a namespace is named
/// for the last part of its name ([`doxygen_compound`]): `system_error` of
/// "libstdc++: std::system_error Class Reference".
pub fn page_name(title: &str) -> Option<String> {
    if let Some(compound) = doxygen_compound(title) {
        let last = compound.rsplit("::").next().unwrap_or(&compound);
        let name = identifier_form(last);
        return is_key(&name).then_some(name);
    }
    let first = title.split_whitespace().next()?;
    let rest = title[first.len()..].trim_start();
    let mut parts = first.split('.').flat_map(|part| part.split("::"));
    let name_like = parts.all(|part| {
        part.chars().all(|c| c.is_alphanumeric() || c == '_')
            && part.chars().next().is_some_and(char::is_alphabetic)
    });
    let joined = first.contains('.') || first.contains("::");
    let code_like = joined || first.chars().skip(1).any(|c| c.is_uppercase() || c == '_');
    let is_name = name_like && (code_like || rest.starts_with("in ") || rest.starts_with('('));
    let name = identifier_form(first);
    (is_name && is_key(&name)).then_some(name)
}

/// The class, struct, union, namespace or concept that a Doxygen page
/// documents, from its title, which Doxygen writes "PROJECT: NAME KIND
/// Reference": `std::system_error` of "libstdc++: std::system_error Class
/// Reference", `std::initializer_list` of "libstdc++:
/// std::initializer_list< _E > Class Template Reference" (a template's
/// parameters dropped), `std::basic_istream::sentry` of a class nested in
/// a template. A file's page ("bitset File Reference") lists what a header
/// declares and defines no name; neither does a member list, nor a full
/// specialization ("std::hash< bool > Struct Reference"), one of many
/// instances of a template whose own page defines the name.
fn doxygen_compound(title: &str) -> Option<String> {
    let (rest, template) = doxygen_compound_as_written(title)?;
    if !template && rest.ends_with('>') {
        return None;
    }
    // The name without its template arguments, however nested.
    let mut name = String::new();
    let mut depth = 0usize;
    for c in rest.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => name.push(c),
            _ => {}
        }
    }
    let name = name.trim();
    name.split("::").all(is_plain_name).then(|| name.to_string())
}

/// A name's part as written: letters, digits and underscores, from a
/// letter or an underscore (`_Tp`, `system_error`, Python's `enumerate`).
pub fn is_plain_name(part: &str) -> bool {
    part.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && part.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The compound of a Doxygen title as written, template arguments and
/// all ("std::unique_ptr< _Tp[], _Dp >"), and whether the title says it is
/// a template.
fn doxygen_compound_as_written(title: &str) -> Option<(&str, bool)> {
    let rest = title.strip_suffix(" Reference")?;
    let (rest, template) = match rest.strip_suffix(" Template") {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let rest = [" Class", " Struct", " Union", " Namespace", " Concept"]
        .iter()
        .find_map(|kind| rest.strip_suffix(kind))?;
    // The project's name ends at ": ", which a name's `::` never is.
    Some((rest.rsplit(": ").next().unwrap_or(rest).trim(), template))
}

/// Whether a Doxygen page documents a partial specialization: a template
/// whose arguments are not all plain names
/// ("std::unique_ptr< _Tp[], _Dp >", "std::atomic< _Tp * >",
/// "std::tuple_size< array< _Tp, _Nm > >").
/// Such a page is named for its template ([`page_name`]), but
/// `unique_ptr::reset` means the member of the template's own page, not
/// the array version's: its members are not qualified by the name. One
/// whose arguments are all names (`std::enable_if< true, _Tp >`) reads as
/// the template itself.
pub fn is_partial_specialization(title: &str) -> bool {
    let Some((compound, true)) = doxygen_compound_as_written(title) else {
        return false;
    };
    let Some(inner) = compound.strip_suffix('>') else {
        return false;
    };
    // The last part's arguments: from the `<` that opens them.
    let mut depth = 0usize;
    let mut open = None;
    for (at, c) in inner.char_indices().rev() {
        match c {
            '>' => depth += 1,
            '<' if depth == 0 => {
                open = Some(at);
                break;
            }
            '<' => depth -= 1,
            _ => {}
        }
    }
    let Some(open) = open else {
        return false;
    };
    let arguments = &inner[open + 1..];
    if arguments.contains(['<', '>']) {
        return true; // an argument that is itself a template's instance
    }
    !arguments.split(',').all(|argument| {
        let parameter = argument.trim();
        is_plain_name(parameter.strip_suffix("...").unwrap_or(parameter).trim_end())
    })
}

/// A Doxygen page's name ([`page_name`], the compound's last part)
/// qualified by the namespaces and classes around it, as people write it:
/// `std.system_error` of "std::system_error Class Reference",
/// `chrono.duration` and `std.chrono.duration` of `std::chrono::duration`'s
/// page. Nothing for any other page.
pub fn qualified_title_names(title: &str) -> Vec<String> {
    let Some(compound) = doxygen_compound(title) else {
        return Vec::new();
    };
    // Each tail of the name that starts after a `::` and is not the last
    // part alone, shortest first.
    let form = identifier_form(&compound);
    let mut names: Vec<String> = form
        .match_indices('.')
        .map(|(dot, _)| form[dot + 1..].to_string())
        .filter(|tail| tail.contains('.'))
        .collect();
    names.reverse();
    names.push(form);
    names.retain(|name| name.contains('.') && is_key(name));
    names
}

/// Whether a Doxygen page documents a name in a scope that C and C++
/// reserve for the implementation, or that scope itself: a part of its
/// name starts with two underscores (`std::__debug::vector`, debug mode's
/// copy of `std::vector`; `__gnu_parallel::_Settings`; `__gnu_cxx`), its
/// template's parameters aside (`__w` of `std::mersenne_twister_engine<
/// _UIntType, __w, ... >`). One who types `emplace_back` or `deque` means
/// the public name, whose page Doxygen writes beside the implementation's
/// own versions of it: such a page ranks below an ordinary page that
/// defines a name asked for (`page_kind::PageKind::Implementation`), and
/// keeps its rank where none does (`rope`, only `__gnu_cxx::rope`'s).
pub fn in_reserved_scope(title: &str) -> bool {
    doxygen_compound(title).is_some_and(|compound| compound.split("::").any(is_reserved_part))
}

/// Whether a name, in its [`identifier_form`], has a part reserved for the
/// implementation ([`in_reserved_scope`]): `__debug.vector.emplace_back`,
/// not `vector.emplace_back`. A query that names such a scope asks for the
/// implementation's pages.
pub fn names_reserved_scope(form: &str) -> bool {
    form.split('.').any(is_reserved_part)
}

/// `__debug`, `__gnu_cxx`; not a dunder (`__init__`), which is a public name.
fn is_reserved_part(part: &str) -> bool {
    part.len() > 2 && part.starts_with("__") && !part.ends_with("__")
}

/// The `identifiers` term that says a page as a whole is named `name`
/// ([`page_name`]), beside the plain `name` it shares with any section
/// anchored so: a name in a query prefers the page about it (javadoc's
/// `Files` class) to another page's member of that name (the enum
/// constant `FILES`). The name is followed by a control character, which
/// no other key holds ([`is_key`]) and no query word (the query parser
/// drops them), so that no anchor (`Book#page`) makes it.
pub fn page_name_key(name: &str) -> String {
    format!("{name}{PAGE_NAME_MARK}")
}

/// What follows a name in [`page_name_key`].
const PAGE_NAME_MARK: char = '\u{1}';

/// The `identifiers` terms that say what a page is titled, as people type
/// a title they know: its title's head (before the site's name or a
/// generator's suffix: "Documentation tests" of "Documentation tests - The
/// rustdoc book", "Using EXPLAIN" of "14.1. Using EXPLAIN"), and its first
/// heading whole and by its head ("Package java.util.stream", the heading
/// of a page titled "java.util.stream (Java SE 17 & JDK 17)"), each in its
/// [`title_form`] after a mark. A query typed as one of them names the
/// page (`title_key` of the query's words).
pub fn title_keys(title: &str, first_heading: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let heading = first_heading.unwrap_or_default();
    for text in [title_head(title), heading, title_head(heading)] {
        if let Some(key) = title_key(text)
            && !keys.contains(&key)
        {
            keys.push(key);
        }
    }
    keys
}

/// The term of [`title_keys`] that `text` (a query's words, or a title)
/// matches; None when it has no word or is too long to be a title.
pub fn title_key(text: &str) -> Option<String> {
    // (Punctuation aside, a title's form is as long as the title: a longer
    // text is not formed only to be found too long.)
    if text.len() > 4 * MAX_KEY_BYTES {
        return None;
    }
    let form = title_form(text);
    (!form.is_empty() && form.len() < MAX_KEY_BYTES).then(|| format!("{TITLE_MARK}{form}"))
}

/// A title compared as typed: its words (runs of letters and digits),
/// lower case, one space apart, without a leading section number ("5.11.",
/// not the number of "404 Not Found"), unstemmed: "Documentation testing"
/// is not "Documentation tests".
pub fn title_form(text: &str) -> String {
    let text = text.trim_start();
    let text = match text.split_once(char::is_whitespace) {
        Some((first, rest)) if is_section_number(first) => rest,
        _ => text,
    };
    // The whole text lower-cased at once, as the query parser does: a
    // word's own lower case may differ (a final sigma).
    let lowered = text.to_lowercase();
    let mut form = String::new();
    for word in lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        if !form.is_empty() {
            form.push(' ');
        }
        form.push_str(word);
    }
    form
}

/// A title before the first separator that generators put between a
/// page's own title and the site's (" - ", " — ", " | ") or a suffix in
/// parentheses ("HashMap (Java SE 17 & JDK 17)").
fn title_head(title: &str) -> &str {
    [" - ", " — ", " – ", " | ", " · ", " ("]
        .iter()
        .filter_map(|separator| title.find(separator))
        .min()
        .map_or(title, |end| &title[..end])
}

/// What precedes a title in [`title_keys`]: like [`PAGE_NAME_MARK`], a
/// control character no anchor, code term or query word holds.
const TITLE_MARK: char = '\u{2}';

/// The page's name (lower case, [`page_name`]) qualified by the
/// directories its URL files it under, when the file is named for it:
/// javadoc's `java.base/java/lang/NullPointerException.html` defines
/// `lang.nullpointerexception` and `java.lang.nullpointerexception`,
/// rustdoc's `std/thread/fn.spawn.html` `thread.spawn` and
/// `std.thread.spawn`: the qualified names people type and paste. The
/// file's stem is the name, or the name after a lower-case word and a dot
/// (rustdoc's item kind: `fn.`, `struct.`; not javadoc's `Map.Entry`). The
/// directories taken are the nearest ones that are ASCII words of letters,
/// digits and underscores with a letter (`java.base`, `class-use`, `15`
/// stop them), as long as the key stays within [`MAX_KEY_BYTES`].
pub fn qualified_page_names(name: &str, url_path: &str) -> Vec<String> {
    let mut segments = url_path.rsplit('/');
    let file = segments.next().unwrap_or_default();
    let stem = file.rsplit_once('.').map_or(file, |(stem, _extension)| stem);
    let named = match stem.split_once('.') {
        Some((kind, named)) if kind.bytes().all(|b| b.is_ascii_lowercase()) => named,
        _ => stem,
    };
    if !named.eq_ignore_ascii_case(name) {
        return Vec::new();
    }
    let mut qualified = name.to_string();
    let mut names = Vec::new();
    for directory in segments {
        let is_word = directory.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && directory.bytes().any(|b| b.is_ascii_alphabetic());
        if !is_word || qualified.len() + 1 + directory.len() > MAX_KEY_BYTES {
            break;
        }
        qualified = format!("{}.{qualified}", directory.to_ascii_lowercase());
        names.push(qualified.clone());
    }
    names
}

/// The name a section's own heading defines, when the heading is a name:
/// `jsonb_set` (DocBook's function table row), `pg_stat_activity` of
/// "28.2.3. pg_stat_activity", `push_back` of Doxygen's "◆ push_back()",
/// `str.split` of Sphinx's "str.split(sep=None)". A section number and
/// leading symbols are skipped; the name is the first word, cut at `(`,
/// and must be written as code ([`looks_like_identifier`]) or be
/// followed by its argument list. A heading that goes on after the name
/// ("HashMap is a map", "pub fn push(...)") names nothing: its anchor
/// alone names the section, as before.
pub fn heading_name(heading: &str) -> Option<&str> {
    let mut rest = heading.trim_start_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    if let Some((first, after)) = rest.split_once(' ')
        && is_section_number(first)
    {
        rest = after.trim_start();
    }
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    let arguments = after.starts_with('(') && ends_after_arguments(after);
    let called = arguments && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    let named = (after.is_empty() || arguments) && (called || looks_like_identifier(name));
    (named && name.chars().any(char::is_alphabetic)).then_some(name)
}

/// Whether `after`, which starts with `(`, is an argument list that ends
/// the heading: nothing after its `)` but Doxygen's overload number
/// (`[1/2]`) or `const`. "Function(s) and Operators" goes on.
fn ends_after_arguments(after: &str) -> bool {
    let Some(close) = after.rfind(')') else {
        return false;
    };
    let rest = after[close + 1..].trim();
    rest.is_empty() || rest.starts_with('[') || rest.starts_with("const")
}

/// The `identifiers` term of a section's heading that is a name
/// ([`heading_name`]): its whole [`identifier_form`] only. Its dotted
/// tails are not keys, unlike an anchor's: a heading "package.json" or
/// "Node.js" names a file or a product, not `json` or `js`.
pub fn heading_key(heading: &str) -> Option<String> {
    let form = identifier_form(heading_name(heading)?);
    is_key(&form).then_some(form)
}

/// A member's [`heading_key`] qualified by the name of the page it is on
/// (a [`page_name`] or one of its [`qualified_title_names`]), when that is
/// still a key: `vector.push_back`, `std.vector.push_back`.
pub fn member_key(owner: &str, member: &str) -> Option<String> {
    let key = format!("{owner}.{member}");
    is_key(&key).then_some(key)
}

/// "28.2.3.", "E.20.", "9.": a numbered heading's number.
fn is_section_number(word: &str) -> bool {
    word.ends_with('.')
        && word.chars().any(|c| c.is_ascii_digit())
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '.')
}

/// The words of a page's text written as code ([`looks_like_identifier`]:
/// `jsonb_set`, `os.path.join()`, `HashMap::entry`, `computeIfAbsent`), each
/// in its [`identifier_form`], once per use. Addresses (with a `/` or
/// `@`) are not code.
pub fn code_terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        // A word trimmed is part of the word: what it has, the whole word
        // has, so a word turned away whole is turned away without trimming
        // it (most words of prose are).
        .filter(|word| may_be_identifier(word))
        .map(|word| word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')))
        .filter(|word| may_be_identifier(word) && !word.contains(['/', '@']) && looks_like_identifier(word))
        .map(identifier_form)
        .filter(|form| form.len() <= MAX_KEY_BYTES && form.chars().any(char::is_alphabetic))
}

/// Whether `word` has what [`looks_like_identifier`] needs: a dot, an
/// underscore or a colon, a capital letter after a small one, or a byte
/// past ASCII (which may be either letter). Most words of prose have none,
/// with their punctuation or without (a capital that starts a sentence is
/// not after a small letter), and a pass over their bytes turns them away:
/// the whole test on every word was a visible part of a crawl's CPU.
fn may_be_identifier(word: &str) -> bool {
    let mut after_small = false;
    for &b in word.as_bytes() {
        if matches!(b, b'.' | b'_' | b':') || !b.is_ascii() || (after_small && b.is_ascii_uppercase()) {
            return true;
        }
        after_small = b.is_ascii_lowercase();
    }
    false
}

/// `word` without a type's parameters (`Vec<u8>`, `std::vector<int>`,
/// `Box<dyn`): the type as its own page names it. A word that starts
/// with `<` is returned whole.
pub fn without_type_parameters(word: &str) -> &str {
    match word.find('<') {
        Some(at) if at > 0 => &word[..at],
        _ => word,
    }
}

/// `word` without the punctuation a name is typed with in a sentence or a
/// message (`KeyError:`, `` `__slots__` ``, `str.split?`), and without a
/// type's parameters ([`without_type_parameters`]), which no anchor or
/// name has.
pub fn trim_typed_punctuation(word: &str) -> &str {
    without_type_parameters(word)
        .trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | '?' | '`' | ':' | ';' | '<' | '>'))
}

/// Whether a word as typed reads as an identifier rather than a word:
/// it has a dot, `::`, an underscore or a call's `()` between or after
/// letters, or a capital letter after a small one (CamelCase).
pub fn looks_like_identifier(word: &str) -> bool {
    let word = trim_typed_punctuation(word);
    if !word.chars().any(char::is_alphabetic) {
        return false;
    }
    let inner = word.trim_end_matches('.');
    let camel = inner
        .chars()
        .zip(inner.chars().skip(1))
        .any(|(a, b)| a.is_lowercase() && b.is_uppercase());
    inner.contains(['.', '_']) || inner.contains("::") || inner.ends_with("()") || camel
}

/// The identifiers of a query as typed, each in its [`identifier_form`]:
/// `dict.setdefault`, `Vec::with_capacity` (`vec.with_capacity`),
/// `enumerate()`, `__slots__`, `KeyError`.
pub fn query_identifiers(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in query.split_whitespace() {
        if !looks_like_identifier(word) {
            continue;
        }
        let form = identifier_form(trim_typed_punctuation(word));
        if is_key(&form) && !out.contains(&form) {
            out.push(form);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// [`identifier_form`] as it was first written: the reference the
    /// one-buffer version must agree with (the index's terms are made by it).
    fn identifier_form_as_first_written(text: &str) -> String {
        let text = text.trim().to_lowercase().replace("::", ".");
        let text = match text.find('(') {
            Some(paren) => &text[..paren],
            None => &text,
        };
        text.trim_matches('.').to_string()
    }

    #[test]
    fn a_types_parameters_are_not_part_of_its_name() {
        for (typed, name) in [
            ("Vec<u8>", "Vec"),
            ("std::vector<int>", "std::vector"),
            ("box<dyn", "box"),
            ("error>", "error"),
            ("`HashMap<K,", "HashMap"),
            ("KeyError:", "KeyError"),
        ] {
            assert_eq!(trim_typed_punctuation(typed), name, "{typed}");
        }
        assert_eq!(
            query_identifiers("std::vector<int> push_back"),
            ["std.vector", "push_back"]
        );
    }

    #[test]
    fn the_identifier_form_is_the_same_written_into_a_buffer() {
        let texts = [
            "",
            " ",
            "Vec::with_capacity",
            "  std::Vec::push()  ",
            "method.push",
            ".leading.and.trailing.",
            ":::",
            "a:::b",
            "::",
            "a::",
            "::a",
            "split(java.lang.String)",
            "(x)",
            "..(..",
            "GUC-WORK-MEM",
            "__slots__",
            "Σ::ΑΣ",
            "İstanbul.Foo",
            "\u{212A}elvin::X",
            "ß::SS(1)",
            "a.b::c.(d::e)",
            "\tTab::X\n",
            "methods-inherited-from-class-java.util.ArrayList",
            "os.path.join()",
            "x..y",
            "...",
        ];
        // And strings of the characters that matter, drawn at random.
        let alphabet: Vec<char> = "aZ_:.( )-Σİ9".chars().collect();
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let drawn: Vec<String> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let len = (state % 9) as usize;
                (0..len)
                    .map(|i| alphabet[((state >> (8 + 5 * i)) % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect();
        let mut form = String::from("left over from the last anchor");
        for text in texts.iter().copied().chain(drawn.iter().map(String::as_str)) {
            super::identifier_form_into(text, &mut form);
            assert_eq!(form, identifier_form_as_first_written(text), "{text:?}");
            assert_eq!(super::identifier_form(text), form, "{text:?}");
        }
    }

    use super::*;

    #[test]
    fn a_bare_anchor_has_a_key_of_its_own() {
        assert_eq!(bare_anchor_key("enumerate"), Some(bare_name_key("enumerate")));
        assert_eq!(bare_anchor_key(" MAX_VALUE"), Some(bare_name_key("max_value")));
        for not_bare in [
            "threading.enumerate",
            "method.push",
            "std::vec",
            "size()",
            "GUC-WORK-MEM",
            "--",
            "",
            "1st",
        ] {
            assert_eq!(bare_anchor_key(not_bare), None, "{not_bare}");
        }
        // Not a page's name, nor a title: each mark is its own.
        assert_ne!(bare_name_key("open"), page_name_key("open"));
        assert_ne!(Some(bare_name_key("open")), title_key("open"));
    }

    #[test]
    fn anchors_give_their_whole_form_and_their_tails() {
        assert_eq!(anchor_keys("str.split", None), ["str.split", "split"]);
        assert_eq!(
            anchor_keys("os.path.join", None),
            ["os.path.join", "path.join", "join"]
        );
        assert_eq!(
            anchor_keys("method.with_capacity", Some("vec")),
            ["method.with_capacity", "with_capacity", "vec.with_capacity"]
        );
        assert_eq!(
            anchor_keys("computeIfAbsent(K,java.util.function.Function)", Some("hashmap")),
            ["computeifabsent", "hashmap.computeifabsent"]
        );
        assert_eq!(
            anchor_keys("object.__slots__", None),
            ["object.__slots__", "__slots__"]
        );
        assert_eq!(anchor_keys("GUC-WORK-MEM", None), ["guc-work-mem", "work_mem"]);
        assert_eq!(
            anchor_keys("MONITORING-PG-STAT-ACTIVITY-VIEW", None),
            [
                "monitoring-pg-stat-activity-view",
                "pg_stat_activity_view",
                "stat_activity_view",
                "activity_view"
            ]
        );
        assert_eq!(
            anchor_keys("methods-inherited-from-class-java.util.ArrayList", None),
            ["methods-inherited-from-class-java.util.arraylist"]
        );
        assert!(anchor_keys("--", None).is_empty());
        assert!(anchor_keys(&"x".repeat(200), None).is_empty());
    }

    #[test]
    fn a_page_named_for_its_file_is_qualified_by_its_directories() {
        assert_eq!(
            qualified_page_names(
                "nullpointerexception",
                "/api/java.base/java/lang/NullPointerException.html"
            ),
            ["lang.nullpointerexception", "java.lang.nullpointerexception"]
        );
        assert_eq!(
            qualified_page_names("spawn", "/std/thread/fn.spawn.html"),
            ["thread.spawn", "std.thread.spawn"]
        );
        // The whole name, however many parts, within the key's bound.
        assert_eq!(
            qualified_page_names("atomicinteger", "/java/util/concurrent/atomic/AtomicInteger.html").last(),
            Some(&"java.util.concurrent.atomic.atomicinteger".to_string())
        );
        let deep = format!("/{}/X.html", ["directory"; 20].join("/"));
        assert!(
            qualified_page_names("x", &deep)
                .iter()
                .all(|key| key.len() <= MAX_KEY_BYTES)
        );
        // A directory that is not a word stops them: a number, a module's
        // dotted name, non-ASCII or percent-encoded.
        assert_eq!(qualified_page_names("x", "/a/15/b/X.html"), ["b.x"]);
        assert_eq!(
            qualified_page_names("x", "/a/%C3%A9t%C3%A9/X.html"),
            Vec::<String>::new()
        );
        // A file not named for the page (an index page, javadoc's nested
        // `Map.Entry` for a page named "entry"), a class-use page's
        // directory, a page at the root, a directory URL: nothing.
        assert!(qualified_page_names("hashmap", "/std/collections/index.html").is_empty());
        assert!(qualified_page_names("entry", "/java/util/Map.Entry.html").is_empty());
        assert!(qualified_page_names("list", "/java.base/java/util/class-use/List.html").is_empty());
        assert!(qualified_page_names("json", "/json.html").is_empty());
        assert!(qualified_page_names("hashmap", "/docs/HashMap/").is_empty());
    }

    #[test]
    fn a_page_is_known_by_its_title_as_typed() {
        let key = |text: &str| title_key(text).unwrap();
        assert_eq!(
            title_keys(
                "Documentation tests - The rustdoc book",
                Some("Documentation tests")
            ),
            vec![key("documentation tests")]
        );
        // Unstemmed: testing is not tests.
        assert_ne!(key("Documentation testing"), key("documentation tests"));
        // A section number, punctuation and case do not count.
        assert_eq!(
            title_keys("14.1. Using EXPLAIN", None),
            vec![key("using explain")]
        );
        assert_eq!(key("What is Ownership?"), key("what is ownership"));
        // javadoc: the package's name as its heading says it.
        assert_eq!(
            title_keys(
                "java.util.stream (Java SE 17 & JDK 17)",
                Some("Package java.util.stream")
            ),
            vec![key("java.util.stream"), key("package java util stream")]
        );
        // Sphinx: the head, the heading whole and its head.
        assert_eq!(
            title_keys(
                "json — JSON encoder and decoder — Python 3.11 documentation",
                Some("json — JSON encoder and decoder")
            ),
            vec![key("json"), key("json JSON encoder and decoder")]
        );
        // Nothing to key, or too long to be a title.
        assert!(title_keys("", None).is_empty());
        assert!(title_keys("— · —", Some("...")).is_empty());
        assert_eq!(title_key(&"word ".repeat(30)), None);
        // A number that is no section's stays ("404 Not Found").
        assert_eq!(title_keys("404 Not Found", None), vec![key("404 not found")]);
        assert_ne!(key("100 days of code"), key("30 Days of Code"));
        // A title key is none of the other keys, and no anchor makes one.
        assert!(key("files").starts_with(TITLE_MARK));
        assert_ne!(key("files"), page_name_key("files"));
        assert!(anchor_keys(&key("documentation tests"), None).is_empty());
        assert!(anchor_keys(&page_name_key("files"), None).is_empty());
    }

    #[test]
    fn a_page_is_named_for_the_name_its_title_starts_with() {
        assert_eq!(page_name("Vec in std::vec - Rust").as_deref(), Some("vec"));
        assert_eq!(page_name("spawn in std::thread - Rust").as_deref(), Some("spawn"));
        assert_eq!(
            page_name("HashMap (Java SE 17 & JDK 17)").as_deref(),
            Some("hashmap")
        );
        assert_eq!(
            page_name("pg_stat_statements").as_deref(),
            Some("pg_stat_statements")
        );
        assert_eq!(page_name("Built-in Types"), None);
        assert_eq!(page_name("20.4. Resource Consumption"), None);
        assert_eq!(page_name("What is Ownership?"), None);
        assert_eq!(page_name("Ownership"), None);
        assert_eq!(
            page_name("Optional (Java SE 17 & JDK 17)").as_deref(),
            Some("optional")
        );
        assert_eq!(page_name(""), None);
        // Dotted and `::` names: javadoc's nested classes and packages,
        // Sphinx's modules.
        assert_eq!(
            page_name("Map.Entry (Java SE 17 & JDK 17)").as_deref(),
            Some("map.entry")
        );
        assert_eq!(
            page_name("java.util.stream (Java SE 17 & JDK 17)").as_deref(),
            Some("java.util.stream")
        );
        assert_eq!(
            page_name("os.path — Common pathname manipulations").as_deref(),
            Some("os.path")
        );
        assert_eq!(
            page_name("std::collections - Rust").as_deref(),
            Some("std.collections")
        );
        // A sentence's full stop, a version or a section number is no name.
        assert_eq!(page_name("Intro. A book"), None);
        assert_eq!(page_name("3.11 What's New"), None);
        assert_eq!(page_name("a..b (x)"), None);
        assert_eq!(page_name("e.g. a title"), None);
        assert_eq!(page_name("U.S. law (2020)"), None);
    }

    #[test]
    fn a_doxygen_page_is_named_for_its_compound_and_qualified_by_its_scopes() {
        let named = |title: &str| (page_name(title), qualified_title_names(title));
        assert_eq!(
            named("libstdc++: std::system_error Class Reference"),
            (Some("system_error".into()), vec!["std.system_error".into()])
        );
        assert_eq!(
            named("libstdc++: std::initializer_list< _E > Class Template Reference"),
            (
                Some("initializer_list".into()),
                vec!["std.initializer_list".into()]
            )
        );
        assert_eq!(
            named("libstdc++: std::chrono::duration< _Rep, _Period > Struct Template Reference"),
            (
                Some("duration".into()),
                vec!["chrono.duration".into(), "std.chrono.duration".into()]
            )
        );
        assert_eq!(
            named("libstdc++: __gnu_cxx Namespace Reference"),
            (Some("__gnu_cxx".into()), vec![])
        );
        // A class nested in a template: named for itself, qualified by the
        // template without its parameters.
        assert_eq!(
            named("libstdc++: std::basic_istream< _CharT, _Traits >::sentry Class Reference"),
            (
                Some("sentry".into()),
                vec!["basic_istream.sentry".into(), "std.basic_istream.sentry".into()]
            )
        );
        // A partial specialization is a template too.
        assert_eq!(
            page_name("libstdc++: std::atomic< _Tp * > Struct Template Reference").as_deref(),
            Some("atomic")
        );
        // Whose members belong to the template's own page.
        for partial in [
            "libstdc++: std::atomic< _Tp * > Struct Template Reference",
            "libstdc++: std::unique_ptr< _Tp[], _Dp > Class Template Reference",
            "libstdc++: std::tuple_size< array< _Tp, _Nm > > Struct Template Reference",
            "libstdc++: std::tuple_element< 0, pair< _Tp1, _Tp2 > > Struct Template Reference",
            "libstdc++: std::function< _Res(_ArgTypes...)> Class Template Reference",
        ] {
            assert!(is_partial_specialization(partial), "{partial}");
        }
        for primary in [
            "libstdc++: std::unique_ptr< _Tp, _Dp > Class Template Reference",
            "libstdc++: std::tuple< _Elements... > Class Template Reference",
            "libstdc++: std::basic_istream< _CharT, _Traits >::sentry Class Reference",
            "libstdc++: std::system_error Class Reference",
            "libstdc++: std::hash< bool > Struct Reference",
            "Vec in std::vec - Rust",
            "libstdc++: std::atomic< Template Reference",
        ] {
            assert!(!is_partial_specialization(primary), "{primary}");
        }
        // A name in a scope reserved for the implementation, or that scope.
        for reserved in [
            "libstdc++: std::__debug::vector< _Tp, _Allocator > Class Template Reference",
            "libstdc++: __gnu_parallel::_Settings Struct Reference",
            "libstdc++: std::__debug Namespace Reference",
        ] {
            assert!(in_reserved_scope(reserved), "{reserved}");
        }
        for public in [
            "libstdc++: std::vector< _Tp, _Alloc > Class Template Reference",
            "libstdc++: std::_Vector_base< _Tp, _Alloc > Struct Template Reference",
            "libstdc++: std::mersenne_twister_engine< _UIntType, __w, __n > Class Template Reference",
            "object.__init__ — Python",
            // A header's page names no compound.
            "libstdc++: debug/vector File Reference",
        ] {
            assert!(!in_reserved_scope(public), "{public}");
        }
        assert!(names_reserved_scope("__debug.vector.emplace_back"));
        assert!(names_reserved_scope("__gnu_cxx"));
        for public in ["vector.emplace_back", "object.__init__", "__", "_m_impl"] {
            assert!(!names_reserved_scope(public), "{public}");
        }
        // Its members' headings qualified by it, while short enough to be keys.
        assert_eq!(
            member_key("std.vector", "push_back").as_deref(),
            Some("std.vector.push_back")
        );
        assert_eq!(member_key(&"n".repeat(95), "push_back"), None);
        // Without the project's name, as the page's heading reads.
        assert_eq!(
            page_name("std::bad_alloc Class Reference").as_deref(),
            Some("bad_alloc")
        );
        // A header's page, a member list, words, a full specialization: no name.
        for title in [
            "libstdc++: bitset File Reference",
            "libstdc++: std::vector< _Tp, _Alloc > Member List",
            "libstdc++: include Directory Reference",
            "libstdc++: Random Number Generation Namespace Reference",
            "libstdc++: std::hash< bool > Struct Reference",
            "libstdc++: std::numeric_limits< unsigned long long > Struct Reference",
            "Class Reference",
        ] {
            assert_eq!(named(title), (None, vec![]), "{title}");
        }
    }

    #[test]
    fn a_heading_that_is_a_name_defines_it() {
        assert_eq!(heading_name("jsonb_set"), Some("jsonb_set"));
        assert_eq!(heading_name("28.2.3. pg_stat_activity"), Some("pg_stat_activity"));
        assert_eq!(heading_name("◆ push_back()"), Some("push_back"));
        assert_eq!(heading_name("◆ size() [1/2]"), Some("size"));
        assert_eq!(heading_name("size()"), Some("size"));
        assert_eq!(
            heading_name("str.split(sep=None, maxsplit=-1)"),
            Some("str.split")
        );
        assert_eq!(heading_name("E.1.2. os.path"), Some("os.path"));
        assert_eq!(heading_name("◆ at() const"), Some("at"));
        assert_eq!(
            heading_key("28.2.3. pg_stat_activity"),
            Some("pg_stat_activity".into())
        );
        assert_eq!(
            heading_key("Vec::with_capacity()"),
            Some("vec.with_capacity".into())
        );
        // A file's or a product's name is a key whole, not by its parts.
        assert_eq!(heading_key("package.json"), Some("package.json".into()));
        assert_eq!(heading_key("Built-in Types"), None);
        for prose in [
            "HashMap is a map",
            "pub fn push(&mut self, value: T)",
            "9.16. JSON Functions and Operators",
            "Built-in Types",
            "class json.JSONEncoder(skipkeys=False)",
            "28.2.3.",
            "",
            "◆",
            "Foo (Java SE 17)",
            "split",
            "Function(s) and Operators",
            "Example(s) of use",
            "str.split(sep) and more",
        ] {
            assert_eq!(heading_name(prose), None, "{prose:?}");
        }
    }

    #[test]
    fn code_terms_are_the_words_written_as_code() {
        let text = "Use jsonb_set(target, path) or os.path.join(). See HashMap::entry, \
                    computeIfAbsent and http://a.example/x_y. Plain words, 3.14 and e.g. stay out.";
        let terms: Vec<String> = code_terms(text).collect();
        assert_eq!(
            terms,
            [
                "jsonb_set",
                "os.path.join",
                "hashmap.entry",
                "computeifabsent",
                "e.g"
            ]
        );
    }

    #[test]
    fn words_turned_away_by_their_bytes_are_no_identifiers() {
        let words = [
            "plain",
            "x_y",
            "a.b",
            "a::b",
            "camelCase",
            "Capital",
            "été",
            "aÉ",
            "naïve",
            "f()",
            "f(x)",
            "(a.b)",
            "a-b",
            "3.14",
            "__slots__",
            "ÉTÉ",
            "über",
            "a:b",
            "e.g.",
            "\"quoted\"",
            "don't",
            "The",
            "HashMap",
            "HTTP",
            "aB",
            "Ab",
            "xÉ",
            "Éx",
        ];
        for word in words {
            let trimmed = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
            if looks_like_identifier(trimmed) {
                assert!(may_be_identifier(trimmed), "{word}");
            }
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]

            // The byte test only turns away words the whole test would.
            #[test]
            fn the_byte_test_keeps_every_identifier(word in "[a-zA-Z0-9_.:()'\"éÉßİ-]{1,12}") {
                let trimmed = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
                if looks_like_identifier(trimmed) {
                    prop_assert!(may_be_identifier(trimmed));
                }
            }

            // Nor does it, asked of the word before it is trimmed
            // (`code_terms` asks it first).
            #[test]
            fn the_byte_test_of_a_whole_word_keeps_what_its_trimmed_form_would(
                word in "[a-zA-Z0-9_.:()'\"éÉßİ ,;!?-]{1,12}"
            ) {
                let trimmed = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
                if may_be_identifier(trimmed) {
                    prop_assert!(may_be_identifier(&word));
                }
            }
        }
    }

    #[test]
    fn query_identifiers_are_the_words_that_look_like_code() {
        assert_eq!(query_identifiers("str.split"), ["str.split"]);
        assert_eq!(query_identifiers("Vec::with_capacity"), ["vec.with_capacity"]);
        assert_eq!(query_identifiers("enumerate()"), ["enumerate"]);
        assert_eq!(query_identifiers("`__slots__`"), ["__slots__"]);
        assert_eq!(query_identifiers("KeyError"), ["keyerror"]);
        assert_eq!(
            query_identifiers("java.lang.NullPointerException: x"),
            ["java.lang.nullpointerexception"]
        );
        assert_eq!(
            query_identifiers("HashMap.computeIfAbsent"),
            ["hashmap.computeifabsent"]
        );
        assert_eq!(query_identifiers("psql \\copy"), Vec::<String>::new());
        assert!(query_identifiers("how do I sort a list").is_empty());
        assert!(
            query_identifiers("Hello. World").is_empty(),
            "a sentence's full stop"
        );
        assert!(
            query_identifiers("3.14 1_000").is_empty(),
            "numbers are not names"
        );
    }
}
