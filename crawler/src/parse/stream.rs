//! A page's elements opened and closed as HTML's tree construction would
//! place them, from the tokenizer ([`super::tokenizer`]), without building the tree.
//!
//! The tokenizer gives tags and text; what it does not know is where an
//! element ends when its end tag is left out or misplaced. [`Elements`]
//! keeps the stack of open elements and applies the rules of the HTML
//! standard's tree construction that decide it:
//! - a `<p>` closes at the next block (`<div>`, `<ul>`, a heading...),
//!   an `<li>` at the next `<li>`, a `<dt>`/`<dd>` at the next of
//!   either, a table cell or row at the next one;
//! - an end tag closes the elements opened inside its element and left
//!   open; one without an open element of its name is ignored, but for a
//!   stray `</p>` (an empty paragraph, as in the tree);
//! - table parts outside a table are ignored, a table opened directly in
//!   a table ends the first, a form there is empty;
//! - content before `<body>` that is not head content starts the body;
//! - the text of `<script>`, `<style>`, `<title>` and the like is text,
//!   never tags (the tokenizer is told so);
//! - SVG and MathML elements may close themselves (`<path/>`).
//!
//! What it leaves out, because it moves elements rather than ends them:
//! text and elements misplaced inside a table outside its cells (the tree
//! moves them before the table; here they stay where they are), and the
//! adoption agency's reopening of formatting elements (`<b>` continued
//! into the next paragraph). Also left out: frameset pages (read as a
//! body, where the tree has none), CDATA sections in SVG and MathML (read
//! as comments), and attributes of a second `<html>` or `<body>` tag
//! (the tree adds them to the first). Compared with the tree over five whole
//! documentation sites (`cargo bench -p crawler --bench extract_compare`,
//! BENCHMARKS.md §13), that changed nothing on any page.

use html5ever::tokenizer::{Doctype, Tag, TagKind};
use html5ever::{LocalName, local_name};
use url::Url;

use super::tokenizer::{self, After, Tokens};
use super::{ElementId, Extraction, ParsedPage, StartTag};

/// [`super::parse_page`]: the page through the tokenizer into
/// [`Extraction`].
pub(super) fn extract(url: &Url, html: &str) -> ParsedPage {
    let mut elements = Elements::new(Extraction::new(url));
    tokenizer::tokenize(html, &mut elements);
    elements.finish()
}

impl Tokens for Elements {
    fn text(&mut self, text: &str) {
        if !self.started && !text.chars().all(is_html_whitespace) {
            self.started = true;
            self.quirks = true;
        }
        self.pending_text.push_str(text);
    }

    fn null(&mut self) {
        // The tree drops NUL characters of the body's text.
        self.start_without_doctype();
    }

    fn tag(&mut self, tag: Tag) -> After {
        self.start_without_doctype();
        self.flush_text();
        match tag.kind {
            TagKind::StartTag => self.start_tag(tag),
            TagKind::EndTag => {
                self.end_tag(tag);
                After::Markup
            }
        }
    }

    // A comment separates two texts, as two text nodes in the tree.
    fn comment(&mut self) {
        self.flush_text();
    }

    fn doctype(&mut self, doctype: Doctype) {
        if !self.started {
            self.started = true;
            self.quirks = is_quirky(&doctype);
        }
        self.flush_text();
    }

    fn end(&mut self) {
        self.start_without_doctype();
        self.end_of_page();
    }
}

/// Open elements at most: every tag may scan the stack (for an open
/// `<p>`, a scope), so an unbounded one makes a page of 100,000 unclosed
/// `<div>`s quadratic. Chromium's parser stops nesting at 512 as well.
const MAX_OPEN_ELEMENTS: usize = 512;

/// An open element.
struct Open {
    id: ElementId,
    name: LocalName,
    /// An SVG or MathML element: it may close itself, and HTML's rules
    /// for implied ends do not apply inside it.
    foreign: bool,
    /// One of HTML's "special" elements ([`SPECIAL`]).
    special: bool,
    /// A form whose end tag came while elements opened in it were still
    /// open: it ends with the last of them.
    ended: bool,
}

/// Where the page is: the head, or the body (which, once started, holds
/// everything up to the end, as in the tree).
#[derive(PartialEq)]
enum Part {
    BeforeHead,
    InHead,
    AfterHead,
    InBody,
}

/// The stack of open elements, feeding [`Extraction`] their opening,
/// text and closing.
struct Elements {
    out: Extraction,
    stack: Vec<Open>,
    next_id: ElementId,
    part: Part,
    html_opened: bool,
    /// A page without a doctype: HTML's quirks mode, where a `<table>`
    /// does not end a paragraph.
    quirks: bool,
    /// Whether anything was read yet (a doctype comes first).
    started: bool,
    /// Text read since the last tag: one text node of the tree.
    pending_text: String,
    ended: bool,
}

impl Elements {
    fn new(out: Extraction) -> Elements {
        Elements {
            out,
            stack: Vec::new(),
            next_id: 0,
            part: Part::BeforeHead,
            html_opened: false,
            quirks: false,
            started: false,
            pending_text: String::new(),
            ended: false,
        }
    }

    /// Anything but a doctype first: the page is in quirks mode.
    fn start_without_doctype(&mut self) {
        if !self.started {
            self.started = true;
            self.quirks = true;
        }
    }

    fn finish(mut self) -> ParsedPage {
        self.end_of_page();
        self.out.finish()
    }

    fn end_of_page(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.flush_text();
        self.pop_to(0);
    }

    fn flush_text(&mut self) {
        if self.pending_text.is_empty() {
            return;
        }
        let mut text = std::mem::take(&mut self.pending_text);
        if self.part != Part::InBody && !self.in_head_element() {
            // Before the body, whitespace is nothing; other text starts it.
            let rest = text.trim_start_matches(is_html_whitespace);
            if !rest.is_empty() {
                self.start_body(&[]);
                self.out.text(rest);
            }
        } else {
            self.out.text(&text);
        }
        // The buffer's allocation serves the next text.
        text.clear();
        self.pending_text = text;
    }

    /// Whether a `<template>` is open: before the body, what it holds
    /// stays in it (the tree reads it by the body's rules).
    fn in_template(&self) -> bool {
        self.part != Part::InBody
            && self
                .stack
                .iter()
                .any(|open| open.name == local_name!("template") && !open.foreign)
    }

    /// Whether the current element is one of the head's (a `<title>`, a
    /// `<script>`), whose text is its own.
    fn in_head_element(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|top| top.name != local_name!("html") && top.name != local_name!("head"))
    }

    fn start_tag(&mut self, mut tag: Tag) -> After {
        if tag.name == local_name!("image") {
            tag.name = local_name!("img");
        }
        if self.part != Part::InBody && !self.in_template() {
            let name = &tag.name;
            if *name == local_name!("html") {
                if !self.html_opened {
                    self.open_html(&tag);
                }
                return After::Markup;
            }
            if *name == local_name!("head") {
                if self.part == Part::BeforeHead {
                    self.open_html_implied();
                    self.open_head();
                }
                return After::Markup;
            }
            if HEAD_CONTENT.contains(name) {
                self.open_html_implied();
                if self.part == Part::BeforeHead {
                    self.open_head();
                }
                return self.insert(&tag, false);
            }
            if *name == local_name!("body") {
                self.start_body(&tag.attrs);
                return After::Markup;
            }
            if *name == local_name!("frameset") {
                return After::Markup;
            }
            self.start_body(&[]);
        }
        self.start_tag_in_body(tag)
    }

    fn start_tag_in_body(&mut self, tag: Tag) -> After {
        let name = &tag.name;
        if self.in_foreign_content() {
            if !breaks_out_of_foreign(&tag) {
                return self.insert(&tag, true);
            }
            while self.stack.last().is_some_and(|top| top.foreign) {
                self.pop();
            }
        }
        if *name == local_name!("html") || *name == local_name!("body") || *name == local_name!("head") {
            // The tree merges their attributes into the existing elements.
            return After::Markup;
        }
        if *name == local_name!("svg") || *name == local_name!("math") {
            return self.insert(&tag, true);
        }
        if TABLE_INNER.contains(name) && self.in_scope(&[local_name!("table")], Scope::Table).is_none() {
            // A cell or row outside any table: the tree ignores the tag.
            return After::Markup;
        }
        if let Some(table) = self.table_outside_cells() {
            if *name == local_name!("table") {
                // A table directly in a table ends the first.
                self.pop_to(table);
            } else if *name == local_name!("form") {
                // A form directly in a table holds nothing (its content
                // goes in the cells).
                let id = self.open_element(name, &tag.attrs);
                self.out.close(id, name);
                return After::Markup;
            }
        }
        if closes_p(name) {
            if *name == local_name!("li") {
                self.close_list_item(&[local_name!("li")]);
            } else if *name == local_name!("dd") || *name == local_name!("dt") {
                self.close_list_item(&[local_name!("dd"), local_name!("dt")]);
            }
            let table_in_quirks = *name == local_name!("table") && self.quirks;
            if !table_in_quirks && let Some(at) = self.in_scope(&[local_name!("p")], Scope::Button) {
                self.generate_implied_end_tags(Some(&local_name!("p")));
                self.pop_to(at);
            }
            if HEADINGS_ALL.contains(name)
                && self
                    .stack
                    .last()
                    .is_some_and(|top| HEADINGS_ALL.contains(&top.name))
            {
                self.pop();
            }
        } else if *name == local_name!("a") {
            // A link inside a link: the tree ends the first one here.
            if let Some(at) = self.open_formatting_element(&local_name!("a")) {
                self.end_formatting_element(at);
            }
        } else if *name == local_name!("td") || *name == local_name!("th") {
            self.close_in_scope(&[local_name!("td"), local_name!("th")], Scope::Table);
        } else if *name == local_name!("tr") {
            self.close_in_scope(
                &[local_name!("td"), local_name!("th"), local_name!("tr")],
                Scope::Table,
            );
        } else if TABLE_SECTIONS.contains(name) {
            self.close_in_scope(
                &[
                    local_name!("td"),
                    local_name!("th"),
                    local_name!("tr"),
                    local_name!("tbody"),
                    local_name!("thead"),
                    local_name!("tfoot"),
                ],
                Scope::Table,
            );
        } else if *name == local_name!("option") {
            self.pop_if_current(&local_name!("option"));
        } else if *name == local_name!("optgroup") {
            self.pop_if_current(&local_name!("option"));
            self.pop_if_current(&local_name!("optgroup"));
        } else if *name == local_name!("button")
            && let Some(at) = self.in_scope(&[local_name!("button")], Scope::Plain)
        {
            self.generate_implied_end_tags(None);
            self.pop_to(at);
        }
        self.insert(&tag, false)
    }

    fn end_tag(&mut self, tag: Tag) {
        let name = &tag.name;
        if self.part != Part::InBody && !self.in_template() {
            if *name == local_name!("head") {
                if self.part == Part::InHead {
                    self.close_head();
                }
                return;
            }
            if *name == local_name!("br") {
                self.start_body(&[]);
            } else {
                // `</title>`, `</script>`... close their head element; the
                // body's end tags before the body are ignored.
                if self.in_head_element() && self.stack.last().is_some_and(|top| top.name == *name) {
                    self.pop();
                }
                return;
            }
        }
        if self.in_foreign_content() {
            for at in (0..self.stack.len()).rev() {
                let open = &self.stack[at];
                if !open.foreign {
                    break;
                }
                if open.name.eq_ignore_ascii_case(name) {
                    self.pop_to(at);
                    return;
                }
            }
        }
        if *name == local_name!("body") || *name == local_name!("html") {
            // The body holds what follows too; everything ends with the page.
        } else if *name == local_name!("p") {
            match self.in_scope(&[local_name!("p")], Scope::Button) {
                Some(at) => {
                    self.generate_implied_end_tags(Some(name));
                    self.pop_to(at);
                }
                None => {
                    // `</p>` alone is an empty paragraph.
                    let id = self.open_element(&local_name!("p"), &[]);
                    self.out.close(id, &local_name!("p"));
                }
            }
        } else if *name == local_name!("li") {
            self.close_in_scope(&[local_name!("li")], Scope::ListItem);
        } else if *name == local_name!("dd") || *name == local_name!("dt") {
            self.close_in_scope(std::slice::from_ref(name), Scope::Plain);
        } else if HEADINGS_ALL.contains(name) {
            // Any heading ends any other.
            self.close_in_scope(&HEADINGS_ALL, Scope::Plain);
        } else if *name == local_name!("template") || *name == local_name!("form") {
            if let Some(at) = self
                .stack
                .iter()
                .rposition(|open| open.name == *name && !open.foreign && !open.ended)
            {
                self.generate_implied_end_tags(None);
                if *name == local_name!("template") || at + 1 == self.stack.len() {
                    self.pop_to(at);
                } else {
                    // The tree takes a form off the stack alone: what was
                    // opened in it stays open, inside it, so the form ends
                    // when they do.
                    self.stack[at].ended = true;
                }
            }
        } else if *name == local_name!("br") {
            let id = self.open_element(&local_name!("br"), &[]);
            self.out.close(id, &local_name!("br"));
        } else if TABLE_PARTS.contains(name) {
            self.close_in_scope(std::slice::from_ref(name), Scope::Table);
        } else if is_block_end(name) {
            self.close_in_scope(std::slice::from_ref(name), Scope::Plain);
        } else if *name == local_name!("a") {
            if let Some(at) = self.open_formatting_element(name) {
                self.end_formatting_element(at);
            }
        } else {
            // Any other end tag closes the nearest open element of its
            // name, unless a block opened since stands between.
            for at in (0..self.stack.len()).rev() {
                if self.stack[at].name == *name {
                    self.generate_implied_end_tags(Some(name));
                    self.pop_to(at);
                    return;
                }
                if is_special(&self.stack[at]) {
                    return;
                }
            }
        }
    }

    /// Opens `tag`'s element: pushed, or opened and closed at once when it
    /// has no content. Returns how the tokenizer reads what follows.
    fn insert(&mut self, tag: &Tag, foreign: bool) -> After {
        let void = (foreign && tag.self_closing) || (!foreign && VOID.contains(&tag.name));
        let raw_text = !foreign && RAW_TEXT.contains(&tag.name);
        if self.stack.len() >= MAX_OPEN_ELEMENTS && !void && !raw_text {
            // Nested deeper than any page means to: the tag is ignored and
            // what it holds goes to the deepest element, so that no tag
            // costs more than a scan of this many. (A raw text element
            // holds no tags: it may go one deeper.)
            return After::Markup;
        }
        let id = if foreign && tag.attrs.iter().any(|a| &*a.name.local == "xlink:href") {
            // The tree reads SVG's `xlink:href` as `href` in the XLink
            // namespace: a link like any other (rustdoc's railroad diagrams).
            let mut attrs = tag.attrs.clone();
            for attribute in &mut attrs {
                if &*attribute.name.local == "xlink:href" {
                    attribute.name.local = local_name!("href");
                }
            }
            self.open_element(&tag.name, &attrs)
        } else {
            self.open_element(&tag.name, &tag.attrs)
        };
        if void {
            self.out.close(id, &tag.name);
            return After::Markup;
        }
        self.stack.push(Open {
            id,
            name: tag.name.clone(),
            foreign,
            special: !foreign && SPECIAL.contains(&tag.name),
            ended: false,
        });
        if foreign {
            return After::Markup;
        }
        match tag.name {
            local_name!("script") => After::Script,
            local_name!("style")
            | local_name!("xmp")
            | local_name!("iframe")
            | local_name!("noembed")
            | local_name!("noframes")
            | local_name!("noscript") => After::Rawtext,
            local_name!("title") | local_name!("textarea") => After::Rcdata,
            local_name!("plaintext") => After::Plaintext,
            _ => After::Markup,
        }
    }

    /// Numbers an element and tells the extraction it opened.
    fn open_element(&mut self, name: &LocalName, attrs: &[html5ever::Attribute]) -> ElementId {
        self.next_id += 1;
        self.out.open(self.next_id, &StartTag { name, attrs });
        self.next_id
    }

    fn open_html(&mut self, tag: &Tag) {
        self.html_opened = true;
        self.open_frame_element(local_name!("html"), &tag.attrs);
    }

    /// Opens `<html>`, `<head>` or `<body>`, written or implied.
    fn open_frame_element(&mut self, name: LocalName, attrs: &[html5ever::Attribute]) {
        let id = self.open_element(&name, attrs);
        self.stack.push(Open {
            id,
            name,
            foreign: false,
            special: true,
            ended: false,
        });
    }

    fn open_html_implied(&mut self) {
        if !self.html_opened {
            self.open_html(&Tag {
                kind: TagKind::StartTag,
                name: local_name!("html"),
                self_closing: false,
                attrs: Vec::new(),
                had_duplicate_attributes: false,
            });
        }
    }

    fn open_head(&mut self) {
        self.open_frame_element(local_name!("head"), &[]);
        self.part = Part::InHead;
    }

    fn close_head(&mut self) {
        if let Some(at) = self
            .stack
            .iter()
            .rposition(|open| open.name == local_name!("head"))
        {
            self.pop_to(at);
        }
        self.part = Part::AfterHead;
    }

    fn start_body(&mut self, attrs: &[html5ever::Attribute]) {
        if self.part == Part::InBody {
            return;
        }
        self.open_html_implied();
        if self.part == Part::InHead {
            self.close_head();
        }
        self.open_frame_element(local_name!("body"), attrs);
        self.part = Part::InBody;
    }

    fn pop(&mut self) {
        if let Some(open) = self.stack.pop() {
            self.out.close(open.id, &open.name);
        }
        while self.stack.last().is_some_and(|top| top.ended) {
            let open = self.stack.pop().expect("checked");
            self.out.close(open.id, &open.name);
        }
    }

    /// Closes the element at `at` and every element opened inside it.
    fn pop_to(&mut self, at: usize) {
        while self.stack.len() > at {
            self.pop();
        }
    }

    /// Closes the element at `at` alone; those opened inside it stay open.
    fn remove(&mut self, at: usize) {
        let open = self.stack.remove(at);
        self.out.close(open.id, &open.name);
    }

    /// Ends a link: with what was opened inside it, or, when a block was
    /// (the tree moves the block out of the link), alone.
    fn end_formatting_element(&mut self, at: usize) {
        if self.stack[at + 1..].iter().any(is_special) {
            self.remove(at);
        } else {
            self.pop_to(at);
        }
    }

    fn pop_if_current(&mut self, name: &LocalName) {
        if self
            .stack
            .last()
            .is_some_and(|top| top.name == *name && !top.foreign)
        {
            self.pop();
        }
    }

    fn close_in_scope(&mut self, names: &[LocalName], scope: Scope) {
        if let Some(at) = self.in_scope(names, scope) {
            let except = (names.len() == 1).then(|| &names[0]);
            self.generate_implied_end_tags(except);
            self.pop_to(at);
        }
    }

    /// A new `<li>` (or `<dd>`, `<dt>`) ends the open one of `names`,
    /// unless a block other than `<address>`, `<div>` or `<p>` stands
    /// between.
    fn close_list_item(&mut self, names: &[LocalName]) {
        for at in (0..self.stack.len()).rev() {
            let open = &self.stack[at];
            if names.contains(&open.name) && !open.foreign {
                let except = open.name.clone();
                self.generate_implied_end_tags(Some(&except));
                self.pop_to(at);
                return;
            }
            if is_special(open)
                && !matches!(
                    open.name,
                    local_name!("address") | local_name!("div") | local_name!("p")
                )
            {
                return;
            }
        }
    }

    /// Closes the elements whose end tags HTML lets a page leave out.
    fn generate_implied_end_tags(&mut self, except: Option<&LocalName>) {
        while let Some(top) = self.stack.last() {
            if top.foreign || !IMPLIED_END.contains(&top.name) || Some(&top.name) == except {
                return;
            }
            self.pop();
        }
    }

    /// Where the nearest open element of `names` is, if no element that
    /// bounds `scope` stands between it and the current element.
    fn in_scope(&self, names: &[LocalName], scope: Scope) -> Option<usize> {
        for (at, open) in self.stack.iter().enumerate().rev() {
            if !open.foreign && names.contains(&open.name) {
                return Some(at);
            }
            if scope.bounded_by(open) {
                return None;
            }
        }
        None
    }

    /// The innermost open table, when no cell or caption of it is open:
    /// where the tree is "in table", not in a cell.
    fn table_outside_cells(&self) -> Option<usize> {
        for (at, open) in self.stack.iter().enumerate().rev() {
            if open.foreign {
                continue;
            }
            match open.name {
                local_name!("table") => return Some(at),
                local_name!("td")
                | local_name!("th")
                | local_name!("caption")
                | local_name!("html")
                | local_name!("template") => return None,
                _ => {}
            }
        }
        None
    }

    /// The open formatting element `name` (a link) not inside a cell or
    /// an object opened since.
    fn open_formatting_element(&self, name: &LocalName) -> Option<usize> {
        for (at, open) in self.stack.iter().enumerate().rev() {
            if open.name == *name && !open.foreign {
                return Some(at);
            }
            if !open.foreign && FORMATTING_MARKERS.contains(&open.name) {
                return None;
            }
        }
        None
    }

    /// Whether the current element is SVG or MathML, where tags are
    /// foreign unless HTML breaks out of it; SVG's `foreignObject`,
    /// `desc` and `title` hold HTML again.
    fn in_foreign_content(&self) -> bool {
        self.stack.last().is_some_and(|top| {
            top.foreign
                && !(top.name == local_name!("desc")
                    || top.name == local_name!("title")
                    || top.name.eq_str_ignore_ascii_case("foreignObject"))
        })
    }
}

/// The elements that bound a scope: an open element of the name looked
/// for beyond them is not "in scope".
#[derive(Clone, Copy)]
enum Scope {
    Plain,
    Button,
    ListItem,
    Table,
}

impl Scope {
    fn bounded_by(self, open: &Open) -> bool {
        if open.foreign {
            return !matches!(self, Scope::Table)
                && (open.name == local_name!("desc")
                    || open.name == local_name!("title")
                    || open.name.eq_str_ignore_ascii_case("foreignObject")
                    || MATHML_TEXT.contains(&&*open.name));
        }
        let name = &open.name;
        match self {
            Scope::Table => {
                *name == local_name!("html")
                    || *name == local_name!("table")
                    || *name == local_name!("template")
            }
            Scope::Plain => SCOPE_BOUNDS.contains(name),
            Scope::Button => SCOPE_BOUNDS.contains(name) || *name == local_name!("button"),
            Scope::ListItem => {
                SCOPE_BOUNDS.contains(name) || *name == local_name!("ol") || *name == local_name!("ul")
            }
        }
    }
}

/// Whether a doctype puts the page in quirks mode: none at all (see
/// `Elements::quirks`), or one of HTML 3 and the transitional HTML 4
/// without a system identifier (the rarer doctypes of the standard's list
/// are left out).
fn is_quirky(doctype: &Doctype) -> bool {
    if doctype.force_quirks
        || !doctype
            .name
            .as_deref()
            .is_some_and(|name| name.eq_ignore_ascii_case("html"))
    {
        return true;
    }
    let public = doctype
        .public_id
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let system = doctype.system_id.as_deref();
    const QUIRKY: [&str; 8] = [
        "-//w3c//dtd html 3",
        "-//w3c//dtd html 4.0 transitional//",
        "-//w3c//dtd html 4.0 frameset//",
        "-//w3c//dtd w3 html//",
        "-//ietf//dtd html",
        "-//netscape comm. corp.//dtd",
        "-//microsoft//dtd internet explorer",
        "-//webtechs//dtd mozilla html",
    ];
    QUIRKY.iter().any(|prefix| public.starts_with(prefix))
        || public == "html"
        || (system.is_none()
            && (public.starts_with("-//w3c//dtd html 4.01 transitional//")
                || public.starts_with("-//w3c//dtd html 4.01 frameset//")))
}

fn is_html_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

fn is_special(open: &Open) -> bool {
    open.special
}

/// Whether an HTML tag inside SVG or MathML ends the foreign content.
fn breaks_out_of_foreign(tag: &Tag) -> bool {
    BREAKS_OUT_OF_FOREIGN.contains(&tag.name)
        || (tag.name == local_name!("font")
            && tag.attrs.iter().any(|attribute| {
                matches!(
                    attribute.name.local,
                    local_name!("color") | local_name!("face") | local_name!("size")
                )
            }))
}

/// Elements of the head: before the body, they stay in the head.
static HEAD_CONTENT: [LocalName; 10] = [
    local_name!("base"),
    local_name!("basefont"),
    local_name!("bgsound"),
    local_name!("link"),
    local_name!("meta"),
    local_name!("title"),
    local_name!("style"),
    local_name!("script"),
    local_name!("noscript"),
    local_name!("template"),
];

/// Elements without content or end tag.
static VOID: [LocalName; 18] = [
    local_name!("area"),
    local_name!("base"),
    local_name!("basefont"),
    local_name!("bgsound"),
    local_name!("br"),
    local_name!("col"),
    local_name!("embed"),
    local_name!("frame"),
    local_name!("hr"),
    local_name!("img"),
    local_name!("input"),
    local_name!("keygen"),
    local_name!("link"),
    local_name!("meta"),
    local_name!("param"),
    local_name!("source"),
    local_name!("track"),
    local_name!("wbr"),
];

static HEADINGS_ALL: [LocalName; 6] = [
    local_name!("h1"),
    local_name!("h2"),
    local_name!("h3"),
    local_name!("h4"),
    local_name!("h5"),
    local_name!("h6"),
];

/// HTML's blocks: their start tag ends an open `<p>`, their end tag
/// closes them if they are in scope.
static BLOCKS: [LocalName; 26] = [
    local_name!("address"),
    local_name!("article"),
    local_name!("aside"),
    local_name!("blockquote"),
    local_name!("center"),
    local_name!("details"),
    local_name!("dialog"),
    local_name!("dir"),
    local_name!("div"),
    local_name!("dl"),
    local_name!("fieldset"),
    local_name!("figcaption"),
    local_name!("figure"),
    local_name!("footer"),
    local_name!("header"),
    local_name!("hgroup"),
    local_name!("listing"),
    local_name!("main"),
    local_name!("menu"),
    local_name!("nav"),
    local_name!("ol"),
    local_name!("pre"),
    local_name!("search"),
    local_name!("section"),
    local_name!("summary"),
    local_name!("ul"),
];

/// Whether a start tag ends an open `<p>`.
fn closes_p(name: &LocalName) -> bool {
    BLOCKS.contains(name)
        || HEADINGS_ALL.contains(name)
        || matches!(
            *name,
            local_name!("p")
                | local_name!("li")
                | local_name!("dd")
                | local_name!("dt")
                | local_name!("form")
                | local_name!("table")
                | local_name!("hr")
                | local_name!("xmp")
                | local_name!("plaintext")
        )
}

/// Whether an end tag closes its element when it is in scope, and only
/// then.
fn is_block_end(name: &LocalName) -> bool {
    BLOCKS.contains(name)
        || matches!(
            *name,
            local_name!("button")
                | local_name!("select")
                | local_name!("applet")
                | local_name!("marquee")
                | local_name!("object")
        )
}

/// Elements whose text is text, never tags: the tokenizer reads them so.
static RAW_TEXT: [LocalName; 10] = [
    local_name!("script"),
    local_name!("style"),
    local_name!("xmp"),
    local_name!("iframe"),
    local_name!("noembed"),
    local_name!("noframes"),
    local_name!("noscript"),
    local_name!("title"),
    local_name!("textarea"),
    local_name!("plaintext"),
];

/// The parts of a table that mean nothing outside one.
static TABLE_INNER: [LocalName; 9] = [
    local_name!("td"),
    local_name!("th"),
    local_name!("tr"),
    local_name!("tbody"),
    local_name!("thead"),
    local_name!("tfoot"),
    local_name!("caption"),
    local_name!("col"),
    local_name!("colgroup"),
];

static TABLE_SECTIONS: [LocalName; 3] = [local_name!("tbody"), local_name!("thead"), local_name!("tfoot")];

static TABLE_PARTS: [LocalName; 8] = [
    local_name!("td"),
    local_name!("th"),
    local_name!("tr"),
    local_name!("tbody"),
    local_name!("thead"),
    local_name!("tfoot"),
    local_name!("table"),
    local_name!("caption"),
];

/// Elements whose end tag a page may leave out.
static IMPLIED_END: [LocalName; 10] = [
    local_name!("dd"),
    local_name!("dt"),
    local_name!("li"),
    local_name!("optgroup"),
    local_name!("option"),
    local_name!("p"),
    local_name!("rb"),
    local_name!("rp"),
    local_name!("rt"),
    local_name!("rtc"),
];

static SCOPE_BOUNDS: [LocalName; 9] = [
    local_name!("applet"),
    local_name!("caption"),
    local_name!("html"),
    local_name!("table"),
    local_name!("td"),
    local_name!("th"),
    local_name!("marquee"),
    local_name!("object"),
    local_name!("template"),
];

/// MathML's text integration points, which bound a scope.
const MATHML_TEXT: [&str; 6] = ["mi", "mo", "mn", "ms", "mtext", "annotation-xml"];

/// Where the list of open formatting elements has a marker: a link
/// outside them is not the one a new link ends.
static FORMATTING_MARKERS: [LocalName; 7] = [
    local_name!("applet"),
    local_name!("object"),
    local_name!("marquee"),
    local_name!("template"),
    local_name!("td"),
    local_name!("th"),
    local_name!("caption"),
];

/// HTML's "special" elements: an unknown end tag does not close past them.
static SPECIAL: [LocalName; 83] = [
    local_name!("address"),
    local_name!("applet"),
    local_name!("area"),
    local_name!("article"),
    local_name!("aside"),
    local_name!("base"),
    local_name!("basefont"),
    local_name!("bgsound"),
    local_name!("blockquote"),
    local_name!("body"),
    local_name!("br"),
    local_name!("button"),
    local_name!("caption"),
    local_name!("center"),
    local_name!("col"),
    local_name!("colgroup"),
    local_name!("dd"),
    local_name!("details"),
    local_name!("dir"),
    local_name!("div"),
    local_name!("dl"),
    local_name!("dt"),
    local_name!("embed"),
    local_name!("fieldset"),
    local_name!("figcaption"),
    local_name!("figure"),
    local_name!("footer"),
    local_name!("form"),
    local_name!("frame"),
    local_name!("frameset"),
    local_name!("h1"),
    local_name!("h2"),
    local_name!("h3"),
    local_name!("h4"),
    local_name!("h5"),
    local_name!("h6"),
    local_name!("head"),
    local_name!("header"),
    local_name!("hgroup"),
    local_name!("hr"),
    local_name!("html"),
    local_name!("iframe"),
    local_name!("img"),
    local_name!("input"),
    local_name!("keygen"),
    local_name!("li"),
    local_name!("link"),
    local_name!("listing"),
    local_name!("main"),
    local_name!("marquee"),
    local_name!("menu"),
    local_name!("meta"),
    local_name!("nav"),
    local_name!("noembed"),
    local_name!("noframes"),
    local_name!("noscript"),
    local_name!("object"),
    local_name!("ol"),
    local_name!("p"),
    local_name!("param"),
    local_name!("plaintext"),
    local_name!("pre"),
    local_name!("script"),
    local_name!("search"),
    local_name!("section"),
    local_name!("select"),
    local_name!("source"),
    local_name!("style"),
    local_name!("summary"),
    local_name!("table"),
    local_name!("tbody"),
    local_name!("td"),
    local_name!("template"),
    local_name!("textarea"),
    local_name!("tfoot"),
    local_name!("th"),
    local_name!("thead"),
    local_name!("title"),
    local_name!("tr"),
    local_name!("track"),
    local_name!("ul"),
    local_name!("wbr"),
    local_name!("xmp"),
];

/// HTML start tags that end SVG or MathML content.
static BREAKS_OUT_OF_FOREIGN: [LocalName; 44] = [
    local_name!("b"),
    local_name!("big"),
    local_name!("blockquote"),
    local_name!("body"),
    local_name!("br"),
    local_name!("center"),
    local_name!("code"),
    local_name!("dd"),
    local_name!("div"),
    local_name!("dl"),
    local_name!("dt"),
    local_name!("em"),
    local_name!("embed"),
    local_name!("h1"),
    local_name!("h2"),
    local_name!("h3"),
    local_name!("h4"),
    local_name!("h5"),
    local_name!("h6"),
    local_name!("head"),
    local_name!("hr"),
    local_name!("i"),
    local_name!("img"),
    local_name!("li"),
    local_name!("listing"),
    local_name!("menu"),
    local_name!("meta"),
    local_name!("nobr"),
    local_name!("ol"),
    local_name!("p"),
    local_name!("pre"),
    local_name!("ruby"),
    local_name!("s"),
    local_name!("small"),
    local_name!("span"),
    local_name!("strong"),
    local_name!("strike"),
    local_name!("sub"),
    local_name!("sup"),
    local_name!("table"),
    local_name!("tt"),
    local_name!("u"),
    local_name!("ul"),
    local_name!("var"),
];
