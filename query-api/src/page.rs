//! The HTML search page: a form and server-rendered results, no JavaScript.

use std::fmt::Write;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::search::SearchResponse;

/// The page for `query`; `key` is the API key the request carried as its
/// `key` parameter, which the form and links carry on (a page without
/// JavaScript has no other way to send it).
pub fn render_page(
    query: &str,
    response: Option<&SearchResponse>,
    error: Option<&str>,
    key: Option<&str>,
) -> String {
    let key_param = key.map_or(String::new(), |key| {
        format!(
            "&key={}",
            url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
        )
    });
    let mut body = String::new();
    if let Some(error) = error {
        let _ = write!(body, r#"<p class="error">{}</p>"#, text(error));
    }
    if let Some(response) = response {
        let search_link = |query: &str| {
            format!(
                "/?query={}{key_param}",
                url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
            )
        };
        if let Some(corrected) = &response.corrected_query {
            let _ = write!(
                body,
                r#"<p class="corrected">Showing results for <a href="{}"><b>{}</b></a>. No results for {}.</p>"#,
                attr(&search_link(corrected)),
                text(corrected),
                text(&response.query),
            );
        } else if let Some(suggestion) = &response.suggestion {
            let _ = write!(
                body,
                r#"<p class="suggestion">Did you mean <a href="{}"><b>{}</b></a>?</p>"#,
                attr(&search_link(suggestion)),
                text(suggestion),
            );
        }
        if response.partial {
            let _ = write!(
                body,
                r#"<p class="partial">Some of the index did not answer in time ({} of {} shards): results may be missing.</p>"#,
                response.shards.answered, response.shards.searched,
            );
        }
        let _ = write!(
            body,
            r#"<p class="meta">{} results ({:.1} ms)</p><ol class="results" start="{}">"#,
            response.total,
            response.took_ms,
            response.offset + 1
        );
        for result in &response.results {
            // The section the result lands on, as its heading path, linked
            // to it; the page's own link stays below the title.
            let section = if result.section.is_empty() {
                String::new()
            } else {
                format!(
                    r#"<div class="section"><a href="{}">{}</a></div>"#,
                    attr(&result.link),
                    text(&result.section.join(" › "))
                )
            };
            let also_at = if result.also_at.is_empty() {
                String::new()
            } else {
                let links: Vec<String> = result
                    .also_at
                    .iter()
                    .map(|url| format!(r#"<a href="{}">{}</a>"#, attr(url), text(url)))
                    .collect();
                format!(r#"<div class="also">also at {}</div>"#, links.join(", "))
            };
            let _ = write!(
                body,
                r#"<li><a class="title" href="{link}">{title}</a>{section}<div class="link">{link_text}</div><p class="snippet">{snippet}</p>{also_at}</li>"#,
                link = attr(&result.link),
                title = text(&result.title),
                link_text = text(&result.page_link),
                // Already HTML: escaped text with <b> highlights.
                snippet = result.snippet,
            );
        }
        body.push_str("</ol>");
        body.push_str(&pager(query, response, &key_param));
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
form {{ display: flex; gap: .5rem; }} input[type=search] {{ flex: 1; font-size: 1.1rem; padding: .4rem; }}
.results {{ padding-left: 1.2rem; }} .results li {{ margin: 1.2rem 0; }}
.title {{ font-size: 1.1rem; }} .link {{ color: #166534; font-size: .85rem; word-break: break-all; }}
.also {{ color: #555; font-size: .8rem; word-break: break-all; }}
.snippet {{ margin: .3rem 0; }} .section a {{ color: #444; font-size: .9rem; }} .meta {{ color: #666; }} .error {{ color: #b91c1c; }}
.suggestion, .corrected {{ font-size: 1.05rem; }} .partial {{ color: #92400e; }}
nav.pager {{ display: flex; gap: 1rem; }}
</style></head>
<body><h1><a href="/">trawl</a></h1>
<form action="/" method="get" role="search"><input type="search" name="query" value="{value}" autofocus aria-label="Search">{key_field}<button type="submit">Search</button></form>
{body}
</body></html>"#,
        title = if query.is_empty() {
            "trawl".to_string()
        } else {
            format!("{} - trawl", text(query))
        },
        value = attr(query),
        key_field = key.map_or(String::new(), |key| format!(
            r#"<input type="hidden" name="key" value="{}">"#,
            attr(key)
        )),
    )
}

fn pager(query: &str, response: &SearchResponse, key_param: &str) -> String {
    let link = |page: usize, label: &str| {
        let href = format!(
            "/?query={}&page={page}&per_page={}{key_param}",
            url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>(),
            response.per_page
        );
        format!(r#"<a href="{}">{label}</a>"#, attr(&href))
    };
    let mut nav = String::from(r#"<nav class="pager">"#);
    if response.page > 1 {
        nav.push_str(&link(response.page - 1, "&larr; Previous"));
    }
    if response.page * response.per_page < response.total {
        nav.push_str(&link(response.page + 1, "Next &rarr;"));
    }
    nav.push_str("</nav>");
    nav
}
