//! HTML extraction: one pass over a page yields its title, meta
//! description, meta robots, canonical URL, language, links with anchor
//! texts (resolved against `<base href>`), headings, sections and main
//! text.
//!
//! No DOM is built. [`tokenizer`] reads the page and [`stream`]
//! keeps the stack of open elements the way HTML's tree construction does
//! (an `<li>` closes the open `<li>`, a `<div>` the open `<p>`, the end
//! of the page everything), so that [`Extraction`] sees each element open
//! and close where it would in the tree. [`dom`] feeds the same
//! [`Extraction`] from a whole tree (scraper): trawl's extraction before,
//! kept as the reference the streaming one is compared with.
//!
//! The main text comes from the page's content root (`<main>`, an element
//! with `role=main`, else `<body>`) without the parts that are not content:
//! scripts, styles, navigation, headers, footers, asides, forms and hidden
//! elements.

use std::collections::HashMap;

use common::NormalizedUrl;
use common::message::{MAX_TEXT_BYTES, Section, is_whitespace_byte, truncate_at_char_boundary};
use html5ever::{Attribute, LocalName, local_name};
use url::Url;

pub mod dom;
mod stream;
mod tokenizer;

/// Links kept per page; the rest are ignored (a page with more is a list
/// or a trap, and its first links are the ones that matter).
pub const MAX_LINKS_PER_PAGE: usize = 5000;
const MAX_HEADINGS: usize = 64;
const MAX_ANCHOR_BYTES: usize = 256;

// Element and attribute names are interned atoms in html5ever: comparing
// them is comparing two integers, where a string list would cost a string
// comparison per entry for every element of the page. The lists are
// statics: a const array of atoms is built and dropped at every use.

/// Elements whose content is never main text.
static NOT_CONTENT: [LocalName; 17] = [
    local_name!("script"),
    local_name!("style"),
    local_name!("noscript"),
    local_name!("template"),
    local_name!("nav"),
    local_name!("header"),
    local_name!("footer"),
    local_name!("aside"),
    local_name!("form"),
    local_name!("button"),
    local_name!("select"),
    local_name!("svg"),
    local_name!("iframe"),
    local_name!("object"),
    local_name!("canvas"),
    local_name!("head"),
    local_name!("title"),
];

/// Elements that separate words: text on either side is never glued.
static BLOCK: [LocalName; 31] = [
    local_name!("p"),
    local_name!("div"),
    local_name!("br"),
    local_name!("li"),
    local_name!("ul"),
    local_name!("ol"),
    local_name!("dl"),
    local_name!("dt"),
    local_name!("dd"),
    local_name!("table"),
    local_name!("tr"),
    local_name!("td"),
    local_name!("th"),
    local_name!("h1"),
    local_name!("h2"),
    local_name!("h3"),
    local_name!("h4"),
    local_name!("h5"),
    local_name!("h6"),
    local_name!("pre"),
    local_name!("blockquote"),
    local_name!("section"),
    local_name!("article"),
    local_name!("main"),
    local_name!("details"),
    local_name!("summary"),
    local_name!("hr"),
    local_name!("figure"),
    local_name!("figcaption"),
    local_name!("body"),
    local_name!("code"),
];

/// Whether `name` breaks a line within a heading or a link's text, where
/// text is read apart from the page's: a [`BLOCK`], but for `code`, which
/// keeps the page's prose apart from its code but is inline in a heading
/// (Sphinx's `<code>str.</code><code>split</code>`).
fn breaks_line(name: &LocalName) -> bool {
    *name != local_name!("code") && BLOCK.contains(name)
}

/// Headings kept as such (and searched with their own weight).
static HEADINGS: [LocalName; 3] = [local_name!("h1"), local_name!("h2"), local_name!("h3")];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedPage {
    pub title: String,
    pub description: String,
    pub headings: Vec<String>,
    pub text: String,
    /// Each URL once, with the anchor text of its first link.
    pub links: Vec<Link>,
    /// Links that did not resolve to a crawlable URL (other schemes, garbage).
    pub invalid_links: usize,
    pub canonical: Option<NormalizedUrl>,
    pub language: Option<String>,
    pub meta_robots: MetaRobots,
    /// The parts of `text` that start at an anchor ([`Sections`]).
    pub sections: Vec<Section>,
    /// Where an immediate `<meta http-equiv=refresh content="0; url=...">`
    /// sends the browser: the page is a redirect (rustdoc and mdBook leave
    /// such stubs where pages moved), not a page of its own.
    pub redirect: Option<NormalizedUrl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub url: NormalizedUrl,
    pub anchor: String,
    /// `rel=nofollow`.
    pub nofollow: bool,
}

/// `<meta name=robots>` directives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaRobots {
    pub noindex: bool,
    pub nofollow: bool,
}

/// Extracts everything trawl needs from `html`, fetched from `url`.
pub fn parse_page(url: &Url, html: &str) -> ParsedPage {
    stream::extract(url, html)
}

/// Which element an event is about: numbered in the order elements open,
/// unique within one page.
pub type ElementId = u32;

/// An element as it opens: its name and attributes.
pub struct StartTag<'a> {
    pub name: &'a LocalName,
    pub attrs: &'a [Attribute],
}

impl StartTag<'_> {
    /// The value of attribute `name`.
    fn attr(&self, name: &LocalName) -> Option<&str> {
        self.attrs
            .iter()
            .find(|attribute| attribute.name.local == *name)
            .map(|attribute| &*attribute.value)
    }
}

/// Reads a page from the events of its elements in document order: each
/// element opens, its text and children follow, it closes.
pub struct Extraction {
    page: ParsedPage,
    links: LinkCollector,
    /// The link being read: its URL (if valid), nofollow, and anchor text.
    open_anchor: Option<(Option<NormalizedUrl>, bool, String)>,
    in_title: bool,
    /// The first `<h1>` with text, the title of a page without `<title>`:
    /// the one being read and its text so far, then the text.
    reading_h1: Option<(ElementId, String)>,
    title_fallback: String,
    /// The text of `<body>`, read until a main element opens (its text
    /// is the page's then, and the body's is not needed).
    body: Option<MainText>,
    /// The first `<main>` or `role=main` element and its text.
    main: Option<(ElementId, MainText)>,
    main_closed: bool,
}

impl Extraction {
    pub fn new(url: &Url) -> Extraction {
        Extraction {
            page: ParsedPage::default(),
            links: LinkCollector::new(url.clone()),
            open_anchor: None,
            in_title: false,
            reading_h1: None,
            title_fallback: String::new(),
            body: None,
            main: None,
            main_closed: false,
        }
    }

    pub fn open(&mut self, id: ElementId, tag: &StartTag) {
        let name = tag.name;
        if breaks_line(name) {
            self.separate_words();
        }
        if *name == local_name!("a") || *name == local_name!("area") {
            // A fragment-only href points into this page, not at another one.
            if let Some(href) = tag
                .attr(&local_name!("href"))
                .filter(|h| !h.trim_start().starts_with('#'))
            {
                let target = self.links.resolve(href);
                if target.is_none() {
                    self.page.invalid_links += 1;
                }
                let nofollow = has_token(tag.attr(&local_name!("rel")).unwrap_or_default(), "nofollow");
                self.open_anchor = Some((target, nofollow, String::new()));
            }
        } else if *name == local_name!("title") {
            self.in_title = self.page.title.is_empty();
        } else if *name == local_name!("meta") {
            read_meta(tag, &mut self.links, &mut self.page);
        } else if *name == local_name!("link") {
            let rel = tag.attr(&local_name!("rel")).unwrap_or_default();
            if has_token(rel, "canonical") && self.page.canonical.is_none() {
                self.page.canonical = tag.attr(&local_name!("href")).and_then(|h| self.links.resolve(h));
            }
        } else if *name == local_name!("base") {
            // `<base href>` sits in the head, before the links it governs.
            if let Some(href) = tag.attr(&local_name!("href")) {
                self.links.set_base(href);
            }
        } else if *name == local_name!("html") {
            self.page.language = tag
                .attr(&local_name!("lang"))
                .map(|l| l.trim().to_ascii_lowercase());
        } else if *name == local_name!("body") && self.body.is_none() && self.main.is_none() {
            self.body = Some(MainText::default());
        } else if *name == local_name!("h1") && self.title_fallback.is_empty() && self.reading_h1.is_none() {
            self.reading_h1 = Some((id, String::new()));
        }
        if self.main.is_none()
            && (*name == local_name!("main") || tag.attr(&local_name!("role")) == Some("main"))
        {
            self.body = None;
            self.main = Some((id, MainText::default()));
        }
        if let Some(text) = self.main_text() {
            text.open(id, tag);
        }
    }

    pub fn close(&mut self, id: ElementId, name: &LocalName) {
        if breaks_line(name) {
            self.separate_words();
        }
        if let Some(text) = self.main_text() {
            text.close(id, name);
        }
        if matches!(&self.main, Some((main, _)) if *main == id) {
            self.main_closed = true;
        }
        if *name == local_name!("a") || *name == local_name!("area") {
            if let Some((Some(url), nofollow, anchor)) = self.open_anchor.take() {
                self.links.push(url, anchor.trim_end().to_string(), nofollow);
            }
        } else if *name == local_name!("title") {
            self.in_title = false;
        } else if matches!(&self.reading_h1, Some((h1, _)) if *h1 == id) {
            let (_, text) = self.reading_h1.take().expect("matched");
            self.title_fallback = text.trim().to_string();
        }
    }

    pub fn text(&mut self, text: &str) {
        if self.in_title {
            push_collapsed(&mut self.page.title, text, usize::MAX);
        }
        if let Some((_, _, anchor)) = self.open_anchor.as_mut() {
            push_collapsed(anchor, text, MAX_ANCHOR_BYTES);
        }
        if let Some((_, h1)) = self.reading_h1.as_mut() {
            push_collapsed(h1, text, 512);
        }
        if let Some(main) = self.main_text() {
            main.text(text);
        }
    }

    /// A line break or a block where words are being read: the words on
    /// either side are two, as on screen (javadoc's `<h1>Uses of
    /// Class<br>java.time.LocalDate</h1>`).
    fn separate_words(&mut self) {
        if let Some((_, _, anchor)) = self.open_anchor.as_mut() {
            push_space(anchor);
        }
        if let Some((_, h1)) = self.reading_h1.as_mut() {
            push_space(h1);
        }
    }

    /// The text being read: main's while it is open, else the body's.
    fn main_text(&mut self) -> Option<&mut MainText> {
        if self.main_closed {
            return None;
        }
        match &mut self.main {
            Some((_, text)) => Some(text),
            None => self.body.as_mut(),
        }
    }

    pub fn finish(self) -> ParsedPage {
        let mut page = self.page;
        if let Some(text) = self.main.map(|(_, text)| text).or(self.body) {
            text.finish(&mut page);
        }
        page.title = page.title.trim().to_string();
        if page.title.is_empty() {
            page.title = self.title_fallback;
        }
        page.links = self.links.links;
        page
    }
}

/// Resolves the links of one page: each distinct href once, each URL kept
/// once (pages link the same few URLs from their menus again and again).
struct LinkCollector {
    base: Url,
    /// The first `<base href>` counts; later ones are ignored (HTML).
    base_set: bool,
    // Hashed with foldhash, seeded per process: hundreds of lookups a page,
    // and std's SipHash was a visible part of a crawl's CPU (BENCHMARKS.md §21).
    resolved: HashMap<String, Option<NormalizedUrl>, foldhash::fast::RandomState>,
    /// URL -> its place in `links`.
    kept: HashMap<NormalizedUrl, usize, foldhash::fast::RandomState>,
    links: Vec<Link>,
}

impl LinkCollector {
    fn new(page_url: Url) -> LinkCollector {
        LinkCollector {
            base: page_url,
            base_set: false,
            resolved: HashMap::default(),
            kept: HashMap::default(),
            links: Vec::new(),
        }
    }

    fn set_base(&mut self, href: &str) {
        if self.base_set {
            return;
        }
        self.base_set = true;
        if let Ok(base) = self.base.join(href.trim())
            && matches!(base.scheme(), "http" | "https")
        {
            self.base = base;
            self.resolved.clear();
        }
    }

    fn resolve(&mut self, href: &str) -> Option<NormalizedUrl> {
        // A normalized URL has no fragment, and the first `#` starts it
        // wherever it is: links that differ only after it (rustdoc's
        // `struct.Vec.html#method.push`, `...#method.pop`) are resolved
        // once. Half of a std page's distinct hrefs are such. The `#` stays,
        // so that whitespace before it is not trimmed as the href's end.
        let href = href.find('#').map_or(href, |at| &href[..=at]);
        if let Some(url) = self.resolved.get(href) {
            return url.clone();
        }
        let url = NormalizedUrl::join(&self.base, href).ok();
        self.resolved.insert(href.to_string(), url.clone());
        url
    }

    /// Keeps a link, or merges it into the link already kept for its URL:
    /// followed if any of its links is, with the first anchor text there is.
    fn push(&mut self, url: NormalizedUrl, anchor: String, nofollow: bool) {
        if let Some(&at) = self.kept.get(&url) {
            let kept = &mut self.links[at];
            kept.nofollow &= nofollow;
            if kept.anchor.is_empty() {
                kept.anchor = anchor;
            }
        } else if self.links.len() < MAX_LINKS_PER_PAGE {
            self.kept.insert(url.clone(), self.links.len());
            self.links.push(Link {
                url,
                anchor,
                nofollow,
            });
        }
    }
}

fn read_meta(tag: &StartTag, links: &mut LinkCollector, page: &mut ParsedPage) {
    let name = tag.attr(&local_name!("name")).unwrap_or_default();
    let content = tag.attr(&local_name!("content")).unwrap_or_default();
    if tag
        .attr(&local_name!("http-equiv"))
        .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
    {
        // `<meta http-equiv=refresh content="0; url=/next">` sends the
        // browser on: the target is a link like any other, and, sent at
        // once, where the page redirects.
        if let Some((delay, url)) =
            refresh_target(content).and_then(|(delay, t)| Some((delay, links.resolve(t)?)))
        {
            // A browser reads the delay's whole seconds: "0.5" is at once.
            if (0.0..1.0).contains(&delay) && page.redirect.is_none() {
                page.redirect = Some(url.clone());
            }
            links.push(url, String::new(), false);
        }
        return;
    }
    if name.eq_ignore_ascii_case("description") && page.description.is_empty() {
        push_collapsed(&mut page.description, content, 1024);
        page.description = page.description.trim_end().to_string();
    } else if name.eq_ignore_ascii_case("robots") {
        let directives = parse_robots_directives(content);
        page.meta_robots.noindex |= directives.noindex;
        page.meta_robots.nofollow |= directives.nofollow;
    }
}

/// The delay in seconds (-1 when it is not a number) and the URL of a meta
/// refresh's `content` (`5; url='/next'`), if it has a URL.
fn refresh_target(content: &str) -> Option<(f32, &str)> {
    let (delay, rest) = content.split_once([';', ','])?;
    let delay = delay
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|d| d.is_finite())
        .unwrap_or(-1.0);
    let rest = rest.trim_start();
    // `url=`, in any case, with spaces around the `=` or none.
    let value = match rest.get(..3) {
        Some(word) if word.eq_ignore_ascii_case("url") && rest[3..].trim_start().starts_with('=') => {
            &rest[3..].trim_start()[1..]
        }
        _ => rest,
    };
    let value = value.trim().trim_matches(['"', '\'']).trim();
    (!value.is_empty()).then_some((delay, value))
}

/// The directives of `X-Robots-Tag` header values (several joined by
/// commas) that apply to a crawler whose product token is `product_token`:
/// unscoped ones (`noindex`) and those scoped to it (`trawl: noindex`), not
/// those scoped to other crawlers (`googlebot: nofollow`).
pub fn header_robots_directives(value: &str, product_token: &str) -> MetaRobots {
    let mut robots = MetaRobots::default();
    // A scope (`name:`) applies to the directives after it, up to the next scope.
    let mut applies = true;
    for part in value.split(',') {
        let mut directive = part.trim();
        if let Some((scope, rest)) = directive.split_once(':') {
            let scope = scope.trim();
            // `unavailable_after: <date>` is a directive with a value, not a scope.
            if !scope.eq_ignore_ascii_case("unavailable_after") && !scope.contains(' ') {
                applies = scope.eq_ignore_ascii_case(product_token);
                directive = rest.trim();
            }
        }
        if applies {
            let found = parse_robots_directives(directive);
            robots.noindex |= found.noindex;
            robots.nofollow |= found.nofollow;
        }
    }
    robots
}

/// Reads `noindex`, `nofollow`, `none` from a meta robots value.
pub fn parse_robots_directives(value: &str) -> MetaRobots {
    let mut robots = MetaRobots::default();
    for token in value.split(',').map(|t| t.trim().to_ascii_lowercase()) {
        match token.as_str() {
            "noindex" => robots.noindex = true,
            "nofollow" => robots.nofollow = true,
            "none" => {
                robots.noindex = true;
                robots.nofollow = true;
            }
            _ => {}
        }
    }
    robots
}

fn has_token(list: &str, token: &str) -> bool {
    list.split_ascii_whitespace()
        .any(|t| t.eq_ignore_ascii_case(token))
}

/// ARIA roles of the parts of a page that every page of a site repeats
/// (the roles of `<nav>`, `<header>`, `<footer>`, `<aside>`).
const BOILERPLATE_ROLES: [&str; 4] = ["navigation", "banner", "contentinfo", "complementary"];

/// Words that name an advertisement or a promotion in a class or id
/// (`ad`, `ad-slot`, `sponsored_box`). Whole words only: `add`, `header`
/// and `download` are not ads.
const AD_WORDS: [&str; 6] = ["ad", "ads", "advert", "advertisement", "sponsored", "promo"];

/// An element that is not the page's own content though it is not marked
/// up as such: a navigation by role, or an ad block. Its text would make
/// copies of one page look different (an ad rotates) and pages of one site
/// look alike (a sidebar by role).
fn is_boilerplate_block(tag: &StartTag) -> bool {
    if tag
        .attr(&local_name!("role"))
        .is_some_and(|role| BOILERPLATE_ROLES.contains(&role))
    {
        return true;
    }
    [local_name!("class"), local_name!("id")].iter().any(|name| {
        // Split as bytes: the separators are ASCII, and so are the words
        // compared (every element of a page has its class read here).
        tag.attr(name).is_some_and(|value| {
            value
                .as_bytes()
                .split(|&b| b.is_ascii_whitespace() || b == b'-' || b == b'_')
                .any(|word| AD_WORDS.iter().any(|ad| word.eq_ignore_ascii_case(ad.as_bytes())))
        })
    })
}

/// The visible text and headings of the content root (`<main>` or
/// `<body>`) and its sections, skipping the elements that are not content.
#[derive(Default)]
struct MainText {
    text: String,
    headings: Vec<String>,
    /// The element not content whose subtree is being skipped.
    skipping: Option<ElementId>,
    /// The heading being read.
    heading: Option<String>,
    sections: Sections,
}

impl MainText {
    fn open(&mut self, id: ElementId, tag: &StartTag) {
        if self.skipping.is_some() {
            return;
        }
        let name = tag.name;
        if NOT_CONTENT.contains(name)
            || tag.attr(&local_name!("hidden")).is_some()
            || tag.attr(&local_name!("aria-hidden")) == Some("true")
            || is_boilerplate_block(tag)
        {
            self.skipping = Some(id);
            return;
        }
        if BLOCK.contains(name) {
            push_space(&mut self.text);
        }
        if breaks_line(name) {
            self.separate_heading_words();
        }
        if HEADINGS.contains(name) && self.headings.len() < MAX_HEADINGS {
            self.heading = Some(String::new());
        }
        self.sections.open(id, tag, &self.text);
    }

    /// See [`Extraction::separate_words`].
    fn separate_heading_words(&mut self) {
        if let Some(heading) = self.heading.as_mut() {
            push_space(heading);
        }
        self.sections.separate_words();
    }

    fn text(&mut self, text: &str) {
        if self.skipping.is_some() {
            return;
        }
        push_collapsed(&mut self.text, text, MAX_TEXT_BYTES);
        if let Some(heading) = self.heading.as_mut() {
            push_collapsed(heading, text, 512);
        }
        self.sections.text(text);
    }

    fn close(&mut self, id: ElementId, name: &LocalName) {
        if self.skipping == Some(id) {
            self.skipping = None;
            return;
        }
        if self.skipping.is_some() {
            return;
        }
        self.sections.close(id);
        if BLOCK.contains(name) {
            push_space(&mut self.text);
        }
        if breaks_line(name) {
            self.separate_heading_words();
        }
        if HEADINGS.contains(name)
            && let Some(text) = self.heading.take()
        {
            let text = text.trim().to_string();
            if !text.is_empty() {
                self.headings.push(text);
            }
        }
    }

    fn finish(self, page: &mut ParsedPage) {
        let mut text = self.text;
        text.truncate(text.trim_end().len());
        page.text = text;
        page.headings = self.headings;
        page.sections = self.sections.done;
    }
}

/// A member summary's cell as the member's own section would be headed:
/// its name, with `()` when an argument list follows (`join ()` reads
/// `join()`, `_M_id` stays), as Doxygen heads a documented member. None
/// for a name written with its scope (`std::find`): a header's page or a
/// group's lists functions so, which it declares but does not define.
fn summary_member_heading(cell: &str) -> Option<String> {
    let end = cell
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(cell.len());
    let (name, rest) = cell.split_at(end);
    if name.contains("::") {
        None
    } else if rest.trim_start().starts_with('(') {
        Some(format!("{name}()"))
    } else {
        Some(name.to_string())
    }
}

/// Elements whose id names what follows them rather than what they hold.
static INLINE_ANCHORS: [LocalName; 2] = [local_name!("a"), local_name!("span")];

/// Most sections kept of one page.
const MAX_SECTIONS: usize = 2_000;
/// Most of them that members listed in a summary may take: the summary
/// comes first, and must leave room for the members documented below it.
const MAX_SUMMARY_SECTIONS: usize = MAX_SECTIONS / 2;
/// Text between an empty link's id and the heading it names, at most.
const MAX_TEXT_BEFORE_HEADING: usize = 24;
/// Text between a container's opening and the heading its id names, at
/// most (rustdoc puts a version and a "Source" link there).
const MAX_CONTAINER_TEXT_BEFORE_HEADING: usize = 200;

/// Splits a page's text into [`Section`]s while it is extracted: a section
/// starts at a heading (`h1`-`h6`) or a definition term (`dt`) that has an
/// anchor, its own `id` or that of the element it opens (`<section
/// id=...><h2>`, as Sphinx, javadoc and rustdoc write it; `<div
/// class="sect1" id=...><h2>` in DocBook), or an empty `<a id|name>`
/// just before or inside it (DocBook, Doxygen, Texinfo). An empty anchor
/// right before a `<code>` element makes that code a definition's term
/// (DocBook's function tables), and so does a name in bold that opens a
/// cell of a member summary (Doxygen's `<td class="memItemRight"><b>join</b>
/// ()`: a member without documentation of its own, listed only there),
/// anchored by its row's own empty anchor, or else by the heading of its
/// table ("Public Member Functions", `#pub-methods`). Its heading path
/// is the headings above it by level (a definition sits below the
/// heading it is under). Text before the first anchored heading belongs to
/// no section.
#[derive(Default)]
struct Sections {
    done: Vec<Section>,
    /// An id of an inline element (an empty link) just before: it names
    /// the heading that follows, with the bytes of text read since.
    pending_anchor: Option<(String, usize)>,
    /// The open elements with an id that may contain a heading (a
    /// `<section>`, a `<div>`): the element, its id, the bytes of text read
    /// in it so far, and whether a heading has taken its id.
    containers: Vec<(ElementId, String, usize, bool)>,
    /// The heading or term being read: its element, level, anchor, where it
    /// starts in the text, and its text so far.
    reading: Option<(ElementId, usize, Option<String>, u32, String)>,
    /// The headings above the current point, by level (1-6; 7 for a term).
    path: Vec<(usize, String)>,
    /// The anchor of the last heading read (not a term's), if it had one:
    /// where a member listed without a section of its own is found.
    heading_anchor: Option<String>,
    /// An open cell of a member summary, and whether text came in it yet:
    /// a name in bold first thing in it is a member's.
    summary_cell: Option<(ElementId, bool)>,
    /// The row of a member summary being read: the id Doxygen gives its
    /// member (`<tr class="memitem:HASH">`, a template's two rows alike),
    /// and whether an element of the row had that id, its empty anchor
    /// (however long the template's parameters and the type after it).
    summary_row: Option<(String, bool)>,
    /// Members listed in a summary made sections so far.
    summary_sections: usize,
}

/// The classes of a member summary's name cell: Doxygen's, for members
/// and for templates' members.
const SUMMARY_CELL_CLASSES: [&str; 2] = ["memItemRight", "memTemplItemRight"];

impl Sections {
    fn open(&mut self, id: ElementId, tag: &StartTag, text: &str) {
        let name = tag.name;
        let own = tag
            .attr(&local_name!("id"))
            .or_else(|| {
                (*name == local_name!("a"))
                    .then(|| tag.attr(&local_name!("name")))
                    .flatten()
            })
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.len() <= 256);
        if *name == local_name!("pre") {
            // Code in a block is an example, not a definition's name.
            self.pending_anchor = None;
        }
        if *name == local_name!("tr") {
            let hash = tag
                .attr(&local_name!("class"))
                .unwrap_or_default()
                .split_ascii_whitespace()
                .find_map(|class| class.strip_prefix("memitem:"));
            self.summary_row = match (hash, self.summary_row.take()) {
                (Some(hash), Some((same, seen))) if same == hash => Some((same, seen)),
                (Some(hash), _) => Some((hash.to_string(), false)),
                (None, _) => None,
            };
        }
        if let (Some(own), Some((hash, seen))) = (own, self.summary_row.as_mut())
            && own == hash
        {
            *seen = true;
        }
        if *name == local_name!("td") {
            let class = tag.attr(&local_name!("class")).unwrap_or_default();
            self.summary_cell = SUMMARY_CELL_CLASSES
                .iter()
                .any(|summary| has_token(class, summary))
                .then_some((id, false));
        }
        let level = match name {
            n if *n == local_name!("h1") => Some(1),
            n if *n == local_name!("h2") => Some(2),
            n if *n == local_name!("h3") => Some(3),
            n if *n == local_name!("h4") => Some(4),
            n if *n == local_name!("h5") => Some(5),
            n if *n == local_name!("h6") => Some(6),
            n if *n == local_name!("dt") => Some(7),
            _ => None,
        };
        match (level, &mut self.reading) {
            (Some(level), None) => {
                let anchor = own
                    .map(str::to_string)
                    .or_else(|| self.pending_anchor.take().map(|(anchor, _)| anchor))
                    .or_else(|| self.container_anchor());
                // A term without an anchor is a plain list, not a definition.
                if level == 7 && anchor.is_none() {
                    return;
                }
                self.reading = Some((id, level, anchor, text.len() as u32, String::new()));
            }
            // An anchor inside the heading being read names it.
            (_, Some((_, _, anchor @ None, _, _))) => *anchor = own.map(str::to_string),
            // An empty anchor right before code (no text between) marks
            // where that code is defined: DocBook's index anchor before
            // a function's name in a table row (`<a id="id-1.5.8..."
            // class="indexterm"></a><code>jsonb_set</code> (...)`). The
            // code is read as a definition's term.
            (None, None) if *name == local_name!("code") && matches!(self.pending_anchor, Some((_, 0))) => {
                let anchor = self.pending_anchor.take().map(|(anchor, _)| anchor);
                self.reading = Some((id, 7, anchor, text.len() as u32, String::new()));
            }
            // A member listed in a summary without a link to its own
            // documentation: its name in bold, first in its cell. The
            // cell is read as its term (`join ()`, cut to `join()` when it
            // closes), anchored by the row's own empty anchor if it has one,
            // else by the table's heading.
            (None, None)
                if *name == local_name!("b")
                    && matches!(self.summary_cell, Some((_, false)))
                    && self.summary_sections < MAX_SUMMARY_SECTIONS =>
            {
                let row_anchor = match &self.summary_row {
                    Some((hash, true)) => Some(hash.clone()),
                    _ => None,
                };
                let pending = self.pending_anchor.take().map(|(anchor, _)| anchor);
                let anchor = row_anchor.or(pending).or_else(|| self.heading_anchor.clone());
                if let (Some(anchor), Some((cell, _))) = (anchor, self.summary_cell) {
                    self.reading = Some((cell, 7, Some(anchor), text.len() as u32, String::new()));
                }
            }
            (None, None) => {
                if let Some(own) = own {
                    if INLINE_ANCHORS.contains(name) {
                        self.pending_anchor = Some((own.to_string(), 0));
                    } else {
                        self.containers.push((id, own.to_string(), 0, false));
                    }
                }
            }
            _ => {}
        }
    }

    /// The id of the innermost open container, for its first heading, if
    /// little text came before it.
    fn container_anchor(&mut self) -> Option<String> {
        let (_, anchor, read, used) = self.containers.last_mut()?;
        if *used || *read > MAX_CONTAINER_TEXT_BEFORE_HEADING {
            return None;
        }
        *used = true;
        Some(anchor.clone())
    }

    /// A line break or block inside the heading being read: its words
    /// on either side are two.
    fn separate_words(&mut self) {
        if let Some((_, _, _, _, heading)) = self.reading.as_mut() {
            push_space(heading);
        }
    }

    fn text(&mut self, text: &str) {
        if let Some((_, text_seen)) = self.summary_cell.as_mut()
            && !text.trim().is_empty()
        {
            *text_seen = true;
        }
        match (&mut self.reading, &mut self.pending_anchor) {
            (Some((_, _, _, _, heading)), _) => push_collapsed(heading, text, 256),
            // A sentence between an id and a heading: the id named
            // something else. A few words do not count (rustdoc puts a
            // "Source" link between a method's <section id> and its
            // heading), nor whitespace or the "§" of a self-link.
            (None, pending) => {
                let read = text.trim().len();
                if let Some((_, before)) = pending {
                    *before += read;
                    if *before > MAX_TEXT_BEFORE_HEADING {
                        *pending = None;
                    }
                }
                if let Some((_, _, before, _)) = self.containers.last_mut() {
                    *before += read;
                }
            }
        }
    }

    fn close(&mut self, id: ElementId) {
        if matches!(self.containers.last(), Some((container, ..)) if *container == id) {
            self.containers.pop();
        }
        // Only a summary member's term is read from a cell.
        let summary_member = matches!(self.summary_cell, Some((cell, _)) if cell == id);
        if summary_member {
            self.summary_cell = None;
        }
        if !matches!(&self.reading, Some((reading, ..)) if *reading == id) {
            return;
        }
        let Some((_, level, anchor, start, heading)) = self.reading.take() else {
            return;
        };
        let heading = heading.trim_matches(|c: char| c.is_whitespace() || matches!(c, '¶' | '§' | '#'));
        if level < 7 {
            self.heading_anchor = anchor.clone().filter(|_| !heading.is_empty());
        }
        if heading.is_empty() {
            return;
        }
        let heading = if summary_member {
            let Some(heading) = summary_member_heading(heading) else {
                return;
            };
            self.summary_sections += 1;
            heading
        } else {
            heading.to_string()
        };
        // Definitions are leaves: a term does not sit under another term.
        self.path.retain(|(above, _)| *above < level);
        self.path.push((level, heading));
        if let Some(anchor) = anchor
            && self.done.len() < MAX_SECTIONS
        {
            self.done.push(Section {
                anchor,
                heading_path: self.path.iter().map(|(_, heading)| heading.clone()).collect(),
                start,
            });
        }
    }
}

fn push_space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// Appends `text` with every run of whitespace collapsed to one space,
/// stopping at `max_bytes`. Whitespace at either end of `text` becomes one
/// separating space; text without it is glued to its neighbours, as a
/// browser renders `<b>foo</b>bar`.
fn push_collapsed(out: &mut String, text: &str, max_bytes: usize) {
    if out.len() >= max_bytes {
        return;
    }
    if text.starts_with(char::is_whitespace) {
        push_space(out);
    }
    if text.is_ascii() {
        push_ascii_words(out, text, max_bytes);
    } else {
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
            if out.len() >= max_bytes {
                break;
            }
        }
    }
    if text.ends_with(char::is_whitespace) {
        push_space(out);
    }
    truncate_at_char_boundary(out, max_bytes);
}

/// [`push_collapsed`]'s words of an ASCII text, found by their bytes: the
/// same words as `split_whitespace`, joined by one space. Text is mostly words with one space
/// between them already: such a run is copied at once. It may run past
/// `max_bytes`; the caller truncates.
fn push_ascii_words(out: &mut String, text: &str, max_bytes: usize) {
    let bytes = text.as_bytes();
    // Most texts are words one space apart already: when no whitespace but
    // the space is in them (a pass without a branch per byte) and no two
    // spaces meet, they are their own collapsed form.
    let other_whitespace = bytes
        .iter()
        .fold(false, |seen, &b| seen | (b.wrapping_sub(b'\t') < 5));
    if !other_whitespace && !text.contains("  ") {
        out.push_str(text.trim_matches(' '));
        return;
    }
    let mut at = 0;
    let mut first = true;
    while out.len() < max_bytes {
        while at < bytes.len() && is_whitespace_byte(bytes[at]) {
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        let start = at;
        loop {
            while at < bytes.len() && !is_whitespace_byte(bytes[at]) {
                at += 1;
            }
            // One plain space before another word: the run goes on.
            if at + 1 < bytes.len() && bytes[at] == b' ' && !is_whitespace_byte(bytes[at + 1]) {
                at += 1;
            } else {
                break;
            }
        }
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(&text[start..at]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_collapsed_as_split_whitespace_splits_it() {
        let texts = [
            "",
            " ",
            "a",
            " a ",
            "a  b\tc\nd\x0be\x0cf\rg",
            "\n\n  word  \n",
            "one two three",
            "one two  three four",
            "x\u{a0}y z",
            " été  à\u{2003}b ",
        ];
        for text in texts {
            for max_bytes in [4, 5, 7, 9, 13, 100] {
                let mut collapsed = String::from("lead");
                push_collapsed(&mut collapsed, text, max_bytes);
                let mut expected = String::from("lead");
                if text.starts_with(char::is_whitespace) {
                    push_space(&mut expected);
                }
                expected.push_str(&text.split_whitespace().collect::<Vec<_>>().join(" "));
                if text.ends_with(char::is_whitespace) {
                    push_space(&mut expected);
                }
                truncate_at_char_boundary(&mut expected, max_bytes);
                assert_eq!(collapsed, expected, "{text:?} at {max_bytes}");
            }
        }
    }

    fn parse(html: &str) -> ParsedPage {
        parse_page(&Url::parse("http://example.com/dir/page.html").unwrap(), html)
    }

    #[test]
    fn ad_blocks_and_boilerplate_roles_are_not_main_text() {
        let page = parse(
            r#"<body><div role="navigation">Home About</div>
            <p>Own words.</p><div class="ad-slot">Buy widgets</div>
            <p id="sponsored_box">Sponsored link</p><div class="header download">Kept</div>
            <div role="complementary">Related pages</div></body>"#,
        );
        assert_eq!(page.text, "Own words. Kept");
    }

    #[test]
    fn extracts_metadata_and_main_text() {
        let page = parse(
            r#"<html lang="EN"><head><title> The   Title </title>
            <meta name="Description" content="A page.">
            <meta name="robots" content="NOINDEX">
            <link rel="canonical" href="/canonical.html"></head>
            <body><nav>Menu <a href="other.html">Other</a></nav>
            <main><h1>Heading <code>one</code></h1><p>First para<b>graph</b>.</p>
            <script>var x = 1;</script><div hidden>secret</div><p>Second</p></main>
            <footer>Footer</footer></body></html>"#,
        );
        assert_eq!(page.title, "The Title");
        assert_eq!(page.description, "A page.");
        assert!(page.meta_robots.noindex && !page.meta_robots.nofollow);
        assert_eq!(
            page.canonical.unwrap().as_str(),
            "http://example.com/canonical.html"
        );
        assert_eq!(page.language.as_deref(), Some("en"));
        assert_eq!(page.headings, ["Heading one"]);
        assert_eq!(page.text, "Heading one First paragraph. Second");
        assert_eq!(page.links.len(), 1);
        assert_eq!(page.links[0].url.as_str(), "http://example.com/dir/other.html");
        assert_eq!(page.links[0].anchor, "Other");
    }

    #[test]
    fn links_resolve_against_base_href_and_keep_rel() {
        let page = parse(
            r##"<head><base href="http://example.com/base/"></head><body>
            <a href="../up.html">Up</a> <a href="x.html#frag" rel="nofollow">X</a>
            <a href="mailto:me@example.com">mail</a> <a href="#top">top</a>
            <a href="http://[bad">bad</a></body>"##,
        );
        let urls: Vec<_> = page.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            ["http://example.com/up.html", "http://example.com/base/x.html"]
        );
        assert!(page.links[1].nofollow);
        assert_eq!(page.invalid_links, 2);
    }

    #[test]
    fn links_that_differ_only_in_their_fragment_are_one_url() {
        let page = parse(
            r##"<body><a href="Vec.html#method.push">push</a> <a href="Vec.html#method.pop">pop</a>
            <a href="Vec.html">Vec</a> <a href="search?q=a#b#c">search</a>
            <a href="http://[bad#x">bad</a> <a href=" ../up.html#frag ">up</a>
            <a href="Vec.html #x">space</a> <a href="http://example.com #top">host</a></body>"##,
        );
        let links: Vec<_> = page
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.anchor.as_str()))
            .collect();
        assert_eq!(
            links,
            [
                ("http://example.com/dir/Vec.html", "push"),
                ("http://example.com/dir/search?q=a", "search"),
                ("http://example.com/up.html", "up"),
                ("http://example.com/dir/Vec.html%20", "space"),
            ]
        );
        // The space before `#` is in the host, which cannot hold one.
        assert_eq!(page.invalid_links, 2);
    }

    #[test]
    fn body_is_the_root_without_main_and_h1_is_the_fallback_title() {
        let page = parse("<body><header>Site</header><h1>Only</h1><p>text</p></body>");
        assert_eq!(page.title, "Only");
        assert_eq!(page.text, "Only text");
    }

    #[test]
    fn a_url_linked_twice_is_kept_once_followed_if_either_link_is() {
        let page = parse(
            r#"<head><base href="/first/"><base href="/second/"></head><body>
            <a href="x.html" rel="nofollow"></a> <a href="./x.html">X again</a>
            <a href="y.html">Y</a> <a href="y.html" rel="nofollow">Y nofollow</a></body>"#,
        );
        let links: Vec<_> = page
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.anchor.as_str(), l.nofollow))
            .collect();
        assert_eq!(
            links,
            [
                ("http://example.com/first/x.html", "X again", false),
                ("http://example.com/first/y.html", "Y", false),
            ],
            "the first <base> counts; duplicates merge"
        );
    }

    #[test]
    fn meta_refresh_targets_are_links() {
        for content in [
            "0; url=/next.html",
            "5;URL='next.html'",
            "3, url=\"next.html\"",
            "0;next.html",
        ] {
            let page = parse(&format!(
                r#"<head><meta http-equiv="Refresh" content="{}"></head>"#,
                content.replace('"', "&quot;")
            ));
            let urls: Vec<_> = page.links.iter().map(|l| l.url.as_str()).collect();
            assert!(
                urls == ["http://example.com/next.html"] || urls == ["http://example.com/dir/next.html"],
                "{content}: {urls:?}"
            );
        }
        assert!(
            parse(r#"<meta http-equiv="refresh" content="30">"#)
                .links
                .is_empty()
        );
    }

    #[test]
    fn an_immediate_meta_refresh_makes_the_page_a_redirect() {
        // rustdoc's stub where a page moved: its canonical link names the
        // target too, which must not be indexed with the stub's text.
        let stub = parse(
            r#"<head><title>Redirecting...</title><meta http-equiv="refresh" content="0; URL=write/tests.html">
            <link rel="canonical" href="write/tests.html"></head><body><p>Redirecting to...</p>"#,
        );
        assert_eq!(
            stub.redirect.as_ref().map(NormalizedUrl::as_str),
            Some("http://example.com/dir/write/tests.html")
        );
        for content in ["0.5; URL = write/tests.html", "0;url='write/tests.html'"] {
            let page = parse(&format!(r#"<meta http-equiv="refresh" content="{content}">"#));
            assert_eq!(
                page.redirect.as_ref().map(NormalizedUrl::as_str),
                Some("http://example.com/dir/write/tests.html"),
                "{content}"
            );
        }
        for content in [
            "5; url=/next.html",
            "30",
            "x; url=/next.html",
            "0",
            "-1; url=/next.html",
        ] {
            let page = parse(&format!(r#"<meta http-equiv="refresh" content="{content}">"#));
            assert_eq!(page.redirect, None, "{content}");
        }
    }

    #[test]
    fn x_robots_tag_scopes_apply_to_their_crawler_only() {
        let d = |value| header_robots_directives(value, "trawl");
        assert_eq!(
            d("noindex"),
            MetaRobots {
                noindex: true,
                nofollow: false
            }
        );
        assert_eq!(d("googlebot: noindex"), MetaRobots::default());
        assert_eq!(
            d("Trawl: nofollow"),
            MetaRobots {
                noindex: false,
                nofollow: true
            }
        );
        assert_eq!(
            d("googlebot: noindex, nofollow, trawl: none"),
            MetaRobots {
                noindex: true,
                nofollow: true
            }
        );
        assert_eq!(
            d("unavailable_after: 25 Jun 2010 15:00:00 PST, noindex"),
            MetaRobots {
                noindex: true,
                nofollow: false
            }
        );
    }

    fn sections_of(html: &str) -> Vec<(String, Vec<String>, String)> {
        let page = parse(html);
        page.sections
            .iter()
            .enumerate()
            .map(|(i, section)| {
                let text = section
                    .text(&page.text, page.sections.get(i + 1))
                    .trim()
                    .to_string();
                (section.anchor.clone(), section.heading_path.clone(), text)
            })
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sphinx_sections_and_definitions_carry_their_anchor_and_heading_path() {
        let html = r##"<html><body><div role="main">
            <section id="built-in-types"><h1>Built-in Types<a class="headerlink" href="#built-in-types">¶</a></h1>
            <p>Intro text.</p>
            <section id="string-methods"><h2>String Methods<a class="headerlink" href="#string-methods">¶</a></h2>
            <dl class="py method"><dt class="sig sig-object py" id="str.split"><span>str.</span><span>split</span>(<em>sep=None</em>)<a class="headerlink" href="#str.split">¶</a></dt>
            <dd><p>Return a list of the words in the string.</p></dd></dl>
            <dl><dt>plain term</dt><dd>not a definition</dd></dl>
            </section></section></div></body></html>"##;
        assert_eq!(
            sections_of(html),
            [
                ("built-in-types".into(), strings(&["Built-in Types"]), "Built-in Types¶ Intro text.".into()),
                ("string-methods".into(), strings(&["Built-in Types", "String Methods"]), "String Methods¶".into()),
                (
                    "str.split".into(),
                    strings(&["Built-in Types", "String Methods", "str.split(sep=None)"]),
                    "str.split(sep=None)¶ Return a list of the words in the string. plain term not a definition".into()
                ),
            ]
        );
    }

    #[test]
    fn a_line_break_separates_the_words_of_headings_titles_and_anchor_texts() {
        // javadoc's "Uses of Class" pages break their h1 before the name.
        let html = r##"<html><body><main>
            <h1 id="uses" title="Uses of Class java.time.LocalDate">Uses of Class<br>java.time.LocalDate</h1>
            <p><a href="/LocalDate.html">Local<br>Date</a></p></main></body></html>"##;
        let page = parse(html);
        assert_eq!(page.title, "Uses of Class java.time.LocalDate");
        assert_eq!(page.headings, ["Uses of Class java.time.LocalDate"]);
        assert_eq!(page.links[0].anchor, "Local Date");
        let sections = sections_of(html);
        assert_eq!(sections[0].1, strings(&["Uses of Class java.time.LocalDate"]));
        // A block that closes inside a heading separates too; code is
        // inline there (older Sphinx writes a name in two code elements).
        let html = r##"<html><body><main><h1><div>Uses of Class</div>LocalDate</h1>
            <dl><dt id="str.split"><code>str.</code><code>split</code>(sep=None)</dt><dd>Splits.</dd></dl>
            </main></body></html>"##;
        assert_eq!(parse(html).title, "Uses of Class LocalDate");
        let sections = sections_of(html);
        assert_eq!(
            sections[0].1,
            strings(&["Uses of Class LocalDate", "str.split(sep=None)"])
        );
    }

    #[test]
    fn rustdoc_javadoc_and_docbook_anchors_are_found() {
        // rustdoc: the id on a <section>, a "§" self-link before the heading.
        let rustdoc = r##"<main><h1>Struct Vec</h1><p>A growable array.</p>
            <section id="method.push" class="method"><span class="rightside"><span class="since">1.0.0 (const: unstable)</span> · <a class="src" href="../src/vec.rs.html#1">Source</a></span><a href="#method.push" class="anchor">§</a>
            <h4 class="code-header">pub fn push(&amp;mut self, value: T)</h4></section>
            <div class="docblock"><p>Appends an element.</p></div></main>"##;
        let sections = sections_of(rustdoc);
        assert_eq!(sections.len(), 1, "{sections:?}");
        assert_eq!(sections[0].0, "method.push");
        assert_eq!(
            sections[0].1,
            strings(&["Struct Vec", "pub fn push(&mut self, value: T)"])
        );
        assert!(sections[0].2.ends_with("Appends an element."), "{sections:?}");

        // javadoc: <section id="split(java.lang.String)"><h3>.
        let javadoc = r##"<main><section class="detail" id="split(java.lang.String)"><h3>split</h3>
            <div class="block">Splits this string.</div></section></main>"##;
        assert_eq!(sections_of(javadoc)[0].0, "split(java.lang.String)");

        // DocBook: the id on the sect1 <div>, wrappers in between; an empty
        // index anchor followed by text names nothing.
        let docbook = r##"<body><div class="sect1" id="DDL-BASICS"><div class="titlepage"><div><div>
            <h2 class="title">5.1. Table Basics</h2></div></div></div>
            <p><a id="id-1.5.4.3.3" class="indexterm"></a>A table in a relational database.</p>
            <h3>Untitled</h3><p>No anchor here.</p></div></body>"##;
        let sections = sections_of(docbook);
        assert_eq!(sections.len(), 1, "{sections:?}");
        assert_eq!(sections[0].0, "DDL-BASICS");
        assert_eq!(sections[0].1, strings(&["5.1. Table Basics"]));

        // DocBook's function tables: an index anchor right before the
        // function's name in code defines it; one with text between does
        // not (a mention in prose).
        let table = r##"<body><div class="sect1" id="FUNCTIONS-JSON"><h2>9.16. JSON Functions</h2>
            <table><tr><td><p class="func_signature">
            <a id="id-1.5.8.22.5.11.2.2.13.1.1.1" class="indexterm"></a>
            <code class="function">jsonb_set</code> ( <code>target</code> <code class="type">jsonb</code> )</p>
            <p>Returns target with the item replaced.</p></td></tr>
            <tr><td><p><a id="id-1.5.8.22.5.11.2.2.14.1.1.1" class="indexterm"></a>
            The <code class="function">jsonb_insert</code> function.</p></td></tr></table></div></body>"##;
        let sections = sections_of(table);
        assert_eq!(sections.len(), 2, "{sections:?}");
        assert_eq!(sections[1].0, "id-1.5.8.22.5.11.2.2.13.1.1.1");
        assert_eq!(sections[1].1, strings(&["9.16. JSON Functions", "jsonb_set"]));
        assert!(
            sections[1].2.starts_with("jsonb_set ( target jsonb )"),
            "{sections:?}"
        );
        assert!(
            sections[1].2.ends_with("The jsonb_insert function."),
            "{sections:?}"
        );
        // An anchor before a block of code names no definition.
        let example = r##"<body><h2 id="usage">Usage</h2><a id="example-1"></a><pre><code>let x = 1;</code></pre></body>"##;
        assert_eq!(sections_of(example).len(), 1, "{:?}", sections_of(example));
    }

    #[test]
    fn a_member_listed_only_in_a_summary_is_found_at_its_table() {
        // Doxygen: a member without documentation of its own is a name in
        // bold in the summary table, after its row's empty anchor (a
        // template's first row has it, before a long type), or none: the
        // table's heading anchors it. One with documentation is a link to
        // its own section, found there; a name with its scope is a
        // header's declaration (`std::swap`), no definition.
        let doxygen = r##"<body><div class="contents">
            <table class="memberdecls">
            <tr class="heading"><td colspan="2"><h2 class="groupheader"><a id="pub-methods" name="pub-methods"></a>
            Public Member Functions</h2></td></tr>
            <tr class="memitem:a7e2"><td class="memItemLeft" align="right" valign="top"><a id="a7e2" name="a7e2"></a>
            void&#160;</td><td class="memItemRight" valign="bottom"><b>join</b> ()</td></tr>
            <tr class="memitem:ab78"><td class="memItemLeft" align="right" valign="top">bool&#160;</td>
            <td class="memItemRight" valign="bottom"><a class="el" href="a08054.html#ab78">joinable</a> () const noexcept</td></tr>
            <tr class="memitem:a5"><td class="memItemLeft">id&#160;</td><td class="memItemRight"><b>_M_id</b></td></tr>
            <tr class="memitem:a2"><td class="memTemplItemLeft">template&lt;typename _Callable &gt; </td>
            <td class="memTemplItemRight"><b>thread</b> (_Callable &amp;&amp;__f)</td></tr>
            <tr class="memitem:a9c4"><td class="memTemplParams" colspan="2"><a id="a9c4" name="a9c4"></a>
            template&lt;typename _Callable , typename... _Args&gt; </td></tr>
            <tr class="memitem:a9c4"><td class="memTemplItemLeft">std::pair&lt; iterator, bool &gt;&#160;</td>
            <td class="memTemplItemRight"><b>emplace</b> (_Args &amp;&amp;... __args)</td></tr>
            <tr class="memitem:a6d1"><td class="memItemLeft"><a id="a6d1" name="a6d1"></a>void&#160;</td>
            <td class="memItemRight"><b>std::swap</b> (thread &amp;__x, thread &amp;__y) noexcept</td></tr>
            <tr class="memdesc:a3"><td class="mdescLeft">&#160;</td><td class="mdescRight">Waits, <b>not</b> a name.</td></tr>
            <tr><td class="memItemRight">a <b>mention</b> in a sentence</td></tr>
            </table>
            <h2 class="groupheader">Member Function Documentation</h2>
            <a id="ab78" name="ab78"></a>
            <h2 class="memtitle"><span class="permalink"><a href="#ab78">&#9670;&nbsp;</a></span>joinable()</h2>
            <p>Whether the thread is joinable.</p>
            <h2>Unanchored</h2><table><tr><td class="memItemRight"><b>detach</b> ()</td></tr></table>
            </div></body>"##;
        let sections = sections_of(doxygen);
        let found: Vec<(&str, Vec<&str>)> = sections
            .iter()
            .map(|(anchor, path, _)| (anchor.as_str(), path.iter().map(String::as_str).collect()))
            .collect();
        let table = "Public Member Functions";
        assert_eq!(
            found,
            [
                ("pub-methods", vec![table]),
                ("a7e2", vec![table, "join()"]),
                ("pub-methods", vec![table, "_M_id"]),
                ("pub-methods", vec![table, "thread()"]),
                ("a9c4", vec![table, "emplace()"]),
                ("ab78", vec!["◆ joinable()"]),
            ],
            "{sections:?}"
        );
        assert!(sections[1].2.starts_with("join () bool joinable"), "{sections:?}");
    }

    #[test]
    fn a_page_without_anchors_has_no_sections() {
        assert!(
            parse("<h1>Title</h1><p>text</p><h2>More</h2><p>more</p>")
                .sections
                .is_empty()
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for html in [
            "",
            "<<<>>>",
            "<a href=",
            "\u{0}\u{feff}<html><body>x",
            "<title>unterminated",
        ] {
            let _ = parse(html);
        }
    }

    fn both(html: &str) -> (ParsedPage, ParsedPage) {
        let url = Url::parse("http://example.com/dir/page.html").unwrap();
        (parse_page(&url, html), dom::parse_page_with_dom(&url, html))
    }

    #[test]
    fn elements_end_where_the_tree_ends_them() {
        for html in [
            "<p>one<p>two<div>three</div>four",
            "<ul><li>a<li>b<ul><li>c</ul><li id=d>d</ul>after",
            "<dl><dt id=x>term<dd>def<dt id=y>t2<dd>d2</dl>",
            "<table><tr><td>a<td>b<tr><th>c<tbody><tr><td>d</table>e",
            "<h1>one<h2 id=two>two</h1>three<h3>four",
            "<a href=a>one<a href=b>two</a>three",
            "<p>x</p></p>y</br>z",
            "<div><span>a</div>b</span>c",
            "<title>t</title><meta name=description content=d>body text",
            "  <!doctype html>\n<html lang=de><head>\n<title>t</title>\n</head>\n<body>b</body>\n</html>\n",
            "<svg><a href=s><path/><title>svg title</title></a><a xlink:href=t.html>T</a></svg><p>after",
            "<script>document.write('<a href=x>')</script><a href=y>y</a>",
            "<noscript><a href=n>n</a></noscript><style>a{}</style><textarea><a href=t></textarea>",
            "<main><p>m<main>second</main></main><p>outside",
            "<div role=main>r</div><main>m</main>",
            "<section id=s><h2>Heading</h2><p>text<section id=t><div>x</div><h3>Sub</h3></section></section>",
            "<p>a<table><tr><td>cell</table>b",
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"><p>a<table><tr><td>quirks</table>b",
            "<a href=x><b>bold</a>after",
            "<h1></h1><h1>Second</h1>",
            "<select><option>a<option>b<optgroup><option>c</select><button>b<button>c</button>",
            "<p>one<!-- c -->two &amp; three&nbsp;four</p>",
            "<nav><td>Menu</nav><p>Article</p><caption>c</caption>",
            "<template><p>Hi</template><p>Article",
            "<nav><table><tr><td>a</td></tr><table></table></nav><p>Article",
            "<table><form><tr><td>Article</td></tr></form></table>after",
            "<select><option>A<p>B</select><p>Article",
            "<form><div>in form</form>still in the div</div>after",
        ] {
            let (stream, dom) = both(html);
            assert_eq!(stream, dom, "{html}");
        }
    }

    #[test]
    fn forty_thousand_unclosed_elements_nest_no_deeper_than_the_stack_allows() {
        let html = format!("<main><a href=x.html>x</a> {}text", "<div><span>".repeat(20_000));
        let page = parse(&html);
        assert_eq!(page.text, "x text");
        assert_eq!(page.links.len(), 1);
        // Tags past the limit are ignored: their text goes to the
        // deepest element.
        let html = format!("{}<main><p>Article<script>var x;</script>", "<span>".repeat(600));
        assert_eq!(parse(&html).text, "Article");
    }

    /// The pages of the Rust docs that rustup installed.
    pub(super) fn rust_doc_pages() -> Vec<std::path::PathBuf> {
        let sysroot = std::process::Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .unwrap();
        let docs = std::path::PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim())
            .join("share/doc/rust/html");
        let mut files = Vec::new();
        let mut dirs = vec![docs];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "html") {
                    files.push(path);
                }
            }
        }
        files.sort();
        assert!(
            files.len() > 1000,
            "the Rust docs rustup installs: {} pages",
            files.len()
        );
        files
    }

    /// The whole Rust and Python docs are compared by `cargo bench -p
    /// crawler --bench extract_compare`; a sample of the Rust docs here.
    #[test]
    fn extraction_matches_the_dom_on_a_sample_of_the_rust_docs() {
        let files = rust_doc_pages();
        for path in files.iter().step_by(files.len() / 150) {
            let html = crate::fetch::decode_html(&std::fs::read(path).unwrap(), None);
            let (stream, dom) = both(&html);
            assert_eq!(stream, dom, "{}", path.display());
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Fragments of HTML, glued at random: unbalanced tags, entities,
        /// odd attributes, text with all kinds of whitespace.
        fn html_soup() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                Just("<html lang=en>".to_string()),
                Just("<head><title>".to_string()),
                Just("</title>".to_string()),
                Just("<main>".to_string()),
                Just("</main>".to_string()),
                Just("<nav><a href=x>nav</a></nav>".to_string()),
                Just("<script>var a = '<p>';</script>".to_string()),
                Just("<base href=\"http://other.example/dir/\">".to_string()),
                Just("<meta http-equiv=refresh content=\"0;url=/r\">".to_string()),
                Just("<link rel=canonical href=/c>".to_string()),
                Just("<h1>".to_string()),
                Just("</h2>".to_string()),
                Just("<section id=s><h2>".to_string()),
                Just("<h3 id=h>".to_string()),
                Just("<dl><dt id=d>".to_string()),
                Just("<a name=n></a>".to_string()),
                Just("<p hidden>".to_string()),
                Just("&amp;&nbsp;&#0;&#x110000;".to_string()),
                "[ \t\n\r\u{a0}\u{3000}]{1,3}",
                "<a href=\"[a-z/:.?#%]{0,12}\">",
                "[a-zA-Z0-9äö日本 ]{0,12}",
                any::<String>(),
            ];
            prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn extraction_never_panics_and_text_is_normalized(html in html_soup()) {
                let page = parse(&html);
                // The shingle hashing of signatures relies on single spaces.
                prop_assert!(!page.text.contains("  "), "{:?}", page.text);
                prop_assert!(!page.text.starts_with(' ') && !page.text.ends_with(' '));
                prop_assert!(page.text.len() <= MAX_TEXT_BYTES);
                prop_assert!(page.links.len() <= MAX_LINKS_PER_PAGE);
                // Sections start in order, inside the text, on characters.
                for pair in page.sections.windows(2) {
                    prop_assert!(pair[0].start <= pair[1].start);
                }
                for section in &page.sections {
                    prop_assert!(page.text.is_char_boundary((section.start as usize).min(page.text.len())));
                }
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
                let text = crate::fetch::decode_html(&bytes, None);
                let _ = parse(&text);
            }
        }
    }
}
