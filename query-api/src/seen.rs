//! Requests seen before, by their query string exactly as sent: what each
//! normalizes to, and the answer it was last given.
//!
//! A cache hit went through the whole front of a search: the query string
//! read into parameters, the query parsed for its normal form, the cache
//! looked up by a key of that form. With the histograms, that was most of a
//! hit's own work, and hits ran at 0.70 of a server that answers one fixed
//! body (BENCHMARKS.md §19). A request asked before is now answered with one
//! lookup here, when every shard is still at the generation its answer was
//! computed at.
//!
//! The query cache alone decides how long an answer lives: this memo holds
//! it weakly, so the cache's entry and byte bounds still hold. An answer
//! the cache evicted is gone here too, and its request goes the whole way
//! (without parsing the query again: its normal form is remembered). A hit
//! here marks its answer read (`search::Answer::mark_read`): the cache, which did
//! not see the hit, keeps a marked answer once more when it would evict it.
//!
//! The memo is bounded in entries, as many as the cache's; an entry is a
//! few hundred bytes at most even when its answer has gone (the answer's
//! own allocation, a `Weak`'s, stays until the entry goes).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, Weak};

use lru::LruCache;

use crate::backends::BackendError;

/// The longest query string remembered: a query of the most bytes
/// allowed, every byte percent-encoded, and its paging.
pub const MAX_QUERY_STRING_BYTES: usize = 3 * crate::query::MAX_QUERY_BYTES + 128;

pub struct SeenRequests<A> {
    /// None when the cache is off: nothing to remember then.
    by_query_string: Option<Mutex<Memo<A>>>,
}

struct Memo<A> {
    requests: Requests<A>,
    /// Answers given from here: counted under the lock already held, not
    /// by an atomic counter both cores write on every hit.
    answers_given: u64,
}

/// Hashed with foldhash, seeded per process: SipHash was most of a
/// lookup's time on a hit, and the seed still keeps clients from choosing
/// query strings that collide.
type Requests<A> = LruCache<Box<str>, Seen<A>, foldhash::fast::RandomState>;

/// What a request seen before was.
#[derive(Debug)]
pub struct Seen<A> {
    /// Its query, normalized: its part of the cache key.
    normalized: String,
    /// The shards' generations its answer was computed at...
    generations: Box<[u64]>,
    /// ...and that answer, while the cache keeps it.
    answer: Weak<A>,
}

/// What [`SeenRequests::recall`] knows.
pub enum Recalled<A> {
    /// The answer given before, still cached and still true.
    Answer(Arc<A>),
    /// Only the query's normal form: the answer went or no longer holds.
    NormalForm(String),
}

impl<A> Seen<A> {
    /// A request that normalizes to `normalized` and has no answer to
    /// remember (it was not cached).
    pub fn unanswered(normalized: String) -> Seen<A> {
        Seen {
            normalized,
            generations: Box::new([]),
            answer: Weak::new(),
        }
    }

    /// A request answered `answer` at `generations`.
    pub fn answered(normalized: String, generations: &[u64], answer: &Arc<A>) -> Seen<A> {
        Seen {
            normalized,
            generations: generations.into(),
            answer: Arc::downgrade(answer),
        }
    }

    /// Its answer, if the cache still keeps it and every shard answered
    /// `now` with the generation it was computed at.
    pub fn answer_at(&self, now: &[Result<u64, BackendError>]) -> Option<Arc<A>> {
        let same = now.len() == self.generations.len()
            && now
                .iter()
                .zip(&self.generations)
                .all(|(now, then)| now.as_ref().is_ok_and(|now| now == then));
        if !same {
            return None;
        }
        self.answer.upgrade()
    }
}

impl<A> SeenRequests<A> {
    /// Remembers at most `entries` requests; none when `entries` is 0.
    pub fn new(entries: usize) -> SeenRequests<A> {
        SeenRequests {
            by_query_string: NonZeroUsize::new(entries).map(|n| {
                Mutex::new(Memo {
                    requests: LruCache::with_hasher(n, foldhash::fast::RandomState::default()),
                    answers_given: 0,
                })
            }),
        }
    }

    fn memo(&self) -> Option<std::sync::MutexGuard<'_, Memo<A>>> {
        let memo = self.by_query_string.as_ref()?;
        Some(memo.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// What is known of the request with this query string, now that the
    /// shards' generations are `now`: its answer, if it holds, or else
    /// its normal form; nothing if not seen.
    pub fn recall(&self, query_string: &str, now: &[Result<u64, BackendError>]) -> Option<Recalled<A>> {
        let mut memo = self.memo()?;
        let seen = memo.requests.get(query_string)?;
        let recalled = match seen.answer_at(now) {
            Some(answer) => Recalled::Answer(answer),
            None => Recalled::NormalForm(seen.normalized.clone()),
        };
        if let Recalled::Answer(_) = recalled {
            memo.answers_given += 1;
        }
        Some(recalled)
    }

    /// How many answers [`SeenRequests::recall`] has given.
    pub fn answers_given(&self) -> u64 {
        self.memo().map_or(0, |memo| memo.answers_given)
    }

    /// Remembers what the request with this query string was; not when the
    /// query string is longer than [`MAX_QUERY_STRING_BYTES`] (it holds
    /// more than a query and its paging: the memo's bound is in entries).
    pub fn put(&self, query_string: &str, seen: Seen<A>) {
        if query_string.len() > MAX_QUERY_STRING_BYTES {
            return;
        }
        if let Some(mut memo) = self.memo() {
            memo.requests.put(query_string.into(), seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer, as far as the memo is concerned.
    fn answer_for(query: &str) -> String {
        format!("the answer to {query}")
    }

    #[test]
    fn an_answer_is_given_again_only_at_the_same_generations_and_while_it_lives() {
        let answer = Arc::new(answer_for("hashmap"));
        let seen = Seen::answered("hashmap".into(), &[3, 7], &answer);
        assert!(seen.answer_at(&[Ok(3), Ok(7)]).is_some());
        assert!(
            seen.answer_at(&[Ok(3), Ok(8)]).is_none(),
            "a shard committed since"
        );
        assert!(seen.answer_at(&[Ok(3)]).is_none(), "a shard fewer");
        let down = Err(BackendError::Timeout(std::time::Duration::from_millis(1)));
        assert!(seen.answer_at(&[Ok(3), down]).is_none(), "a shard did not answer");
        // The cache let it go: so does the memo.
        drop(answer);
        assert!(seen.answer_at(&[Ok(3), Ok(7)]).is_none());
        assert!(Seen::<String>::unanswered("x".into()).answer_at(&[]).is_none());
    }

    fn normal_form(seen: &SeenRequests<String>, query_string: &str) -> Option<String> {
        match seen.recall(query_string, &[Ok(1)])? {
            Recalled::NormalForm(normalized) => Some(normalized),
            Recalled::Answer(_) => panic!("no answer was remembered"),
        }
    }

    #[test]
    fn recalls_the_answer_while_it_holds_else_the_normal_form() {
        let seen = SeenRequests::<String>::new(10);
        assert!(seen.recall("q=HashMap", &[Ok(1)]).is_none());
        let answer = Arc::new(answer_for("hashmap"));
        seen.put("q=HashMap", Seen::answered("hashmap".into(), &[1], &answer));
        assert!(
            matches!(seen.recall("q=HashMap", &[Ok(1)]), Some(Recalled::Answer(a)) if Arc::ptr_eq(&a, &answer))
        );
        assert!(
            matches!(seen.recall("q=HashMap", &[Ok(2)]), Some(Recalled::NormalForm(n)) if n == "hashmap")
        );
        assert_eq!(seen.answers_given(), 1, "the normal form is not an answer");
    }

    #[test]
    fn bounded_and_off_with_the_cache() {
        let seen = SeenRequests::<String>::new(2);
        for query in ["q=a", "q=b", "q=c"] {
            seen.put(query, Seen::unanswered(query.into()));
        }
        assert_eq!(normal_form(&seen, "q=a"), None, "the oldest went");
        assert_eq!(normal_form(&seen, "q=c").as_deref(), Some("q=c"));
        let long = format!("q={}", "a".repeat(MAX_QUERY_STRING_BYTES));
        seen.put(&long, Seen::unanswered("a".into()));
        assert_eq!(normal_form(&seen, &long), None, "too long to remember");
        let off = SeenRequests::<String>::new(0);
        off.put("q=a", Seen::unanswered("a".into()));
        assert_eq!(normal_form(&off, "q=a"), None);
    }
}
