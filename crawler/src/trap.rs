//! Crawler traps that a URL gives away by its shape: URLs too long to be
//! real, and paths that repeat a segment (`/a/b/a/b/a/b`, the mark of
//! relative links resolved against themselves). Traps that need history
//! (endless query variations of one path, a host without end) are caught
//! by the frontier's per-path and per-host counters.

use common::NormalizedUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapLimits {
    /// Longest URL followed, in bytes. Browsers and servers commonly stop
    /// around 2-8 KB; real pages rarely pass 1 KB.
    pub max_url_bytes: usize,
    /// A path segment that occurs more often than this marks a trap.
    pub max_segment_repeats: usize,
    /// Paths with more segments than this are traps.
    pub max_path_segments: usize,
}

impl Default for TrapLimits {
    fn default() -> Self {
        TrapLimits {
            max_url_bytes: 2048,
            max_segment_repeats: 3,
            max_path_segments: 32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    UrlTooLong,
    RepeatedSegments,
    TooManySegments,
}

/// Whether `url`'s shape alone marks it as a trap.
pub fn check_url(url: &NormalizedUrl, limits: &TrapLimits) -> Result<(), TrapKind> {
    if url.as_str().len() > limits.max_url_bytes {
        return Err(TrapKind::UrlTooLong);
    }
    let segments: Vec<&str> = url.as_url().path().split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() > limits.max_path_segments {
        return Err(TrapKind::TooManySegments);
    }
    for (i, segment) in segments.iter().enumerate() {
        // Counting from each first occurrence keeps this quadratic in the
        // number of segments, which is bounded just above.
        if segments[..i].contains(segment) {
            continue;
        }
        if segments[i..].iter().filter(|s| *s == segment).count() > limits.max_segment_repeats {
            return Err(TrapKind::RepeatedSegments);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), TrapKind> {
        check_url(&NormalizedUrl::parse(url).unwrap(), &TrapLimits::default())
    }

    #[test]
    fn ordinary_urls_pass() {
        assert_eq!(check("http://example.com/"), Ok(()));
        assert_eq!(check("http://example.com/docs/std/vec/struct.Vec.html"), Ok(()));
        assert_eq!(
            check("http://example.com/a/a/a/b"),
            Ok(()),
            "three repeats are allowed"
        );
    }

    #[test]
    fn shapes_of_traps_are_caught() {
        assert_eq!(
            check(&format!("http://example.com/{}", "x".repeat(3000))),
            Err(TrapKind::UrlTooLong)
        );
        assert_eq!(
            check("http://example.com/a/b/a/b/a/b/a/b"),
            Err(TrapKind::RepeatedSegments)
        );
        assert_eq!(
            check(&format!(
                "http://example.com/{}",
                (0..40).map(|i| i.to_string()).collect::<Vec<_>>().join("/")
            )),
            Err(TrapKind::TooManySegments)
        );
    }
}
