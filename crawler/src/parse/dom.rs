//! The extraction over a whole tree: scraper (html5ever's tree builder)
//! parses the page into a DOM, and a walk over it feeds [`Extraction`]
//! the events [`super::stream`] feeds it without one. It was trawl's
//! extraction until the streaming one replaced it (issue 17), and stays as
//! the reference that one is compared with: the unit tests, and the whole
//! Rust and Python docs (`cargo bench -p crawler --bench extract_compare`).

use ego_tree::iter::Edge;
use html5ever::{Attribute, QualName, ns};
use scraper::{Html, Node};
use url::Url;

use super::{ElementId, Extraction, ParsedPage, StartTag};

/// [`super::parse_page`]'s result, from a DOM.
pub fn parse_page_with_dom(url: &Url, html: &str) -> ParsedPage {
    let document = Html::parse_document(html);
    let mut extraction = Extraction::new(url);
    let mut open: Vec<ElementId> = Vec::new();
    let mut next_id: ElementId = 0;
    for edge in document.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(element) => {
                    let attrs: Vec<Attribute> = element
                        .attrs
                        .iter()
                        .map(|(name, value)| Attribute {
                            name: QualName::new(None, ns!(), name.local.clone()),
                            value: value.clone(),
                        })
                        .collect();
                    next_id += 1;
                    open.push(next_id);
                    let tag = StartTag {
                        name: &element.name.local,
                        attrs: &attrs,
                    };
                    extraction.open(next_id, &tag);
                }
                Node::Text(text) => extraction.text(text),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(element) = node.value() {
                    let id = open.pop().expect("every element closes after it opens");
                    extraction.close(id, &element.name.local);
                }
            }
        }
    }
    extraction.finish()
}
