//! The purge planner: which purge calls to make now, given the tags owed and the budget. Pure;
//! `purge::run` feeds it the table of owed purges and the token bucket, makes the calls, and
//! records the outcome.
//!
//! The budget is Cloudflare's for Workers Caching, whatever the plan: purges by tag or prefix
//! draw from a token bucket (5 a minute, bursts of 25), each call may carry 100 tags and
//! prefixes; purging everything has a bucket of its own (5 a second) that one site never
//! exhausts. So:
//! - owed tags are coalesced: every call carries all it can, whatever batch owed them;
//! - while the bucket holds enough tokens, owed tags are purged exactly, at once;
//! - with fewer tokens than exact calls need, one call purges the coarse path prefixes that
//!   cover every owed tag (a page kind's whole prefix, the front page by its tag);
//! - with no token, owed tags wait for the next one (the plan says when), unless the oldest
//!   has waited `max_wait_ms`: then everything is purged, rather than waiting forever;
//! - settle purges (a tag again, shortly after its first purge) ride along any call being made
//!   anyway, and get calls of their own only while half the bucket (rounded down) stays;
//! - nothing is ever dropped: a tag leaves the table only when a call that covers it
//!   succeeded (or, for a settle, once the edge lifetime has passed since: no copy can be older).

use generator::paths::prefixes_covering;

/// The owed tag that stands for everything (`purge::EVERYTHING`).
pub const EVERYTHING: &str = "*";

/// Tokens are fractions; a bucket this close to a whole token holds it.
const EPSILON: f64 = 1e-6;

/// The limits purges work within.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// The bucket's size (a burst of calls).
    pub burst: f64,
    /// Tokens added per minute.
    pub per_minute: f64,
    /// Tags plus prefixes one call may carry.
    pub per_call: usize,
    /// How long an owed tag may wait for a token before everything is purged.
    pub max_wait_ms: u64,
    /// How long after its first purge a tag is purged again (the settle purge).
    pub settle_ms: u64,
    /// The edge lifetime: a settle row older than this is no longer needed.
    pub edge_ttl_ms: u64,
}

impl Default for Budget {
    /// Cloudflare's Free-tier purge limits, which Workers Caching always uses.
    fn default() -> Self {
        Budget {
            burst: 25.0,
            per_minute: 5.0,
            per_call: 100,
            max_wait_ms: 60_000,
            settle_ms: 2_000,
            edge_ttl_ms: 3_600_000,
        }
    }
}

/// The token bucket as last recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: u64,
}

impl Bucket {
    /// A full bucket.
    pub fn full(budget: &Budget, now_ms: u64) -> Self {
        Bucket { tokens: budget.burst, at_ms: now_ms }
    }

    /// The bucket at `now_ms`, refilled for the time since.
    pub fn refilled(self, budget: &Budget, now_ms: u64) -> Self {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64;
        let tokens = (self.tokens + elapsed * budget.per_minute / 60_000.0).min(budget.burst);
        Bucket { tokens, at_ms: now_ms.max(self.at_ms) }
    }

    /// When the bucket will hold `tokens` again.
    pub fn time_of(self, budget: &Budget, tokens: f64) -> u64 {
        if self.tokens + EPSILON >= tokens || budget.per_minute <= 0.0 {
            return self.at_ms;
        }
        self.at_ms + ((tokens - self.tokens) * 60_000.0 / budget.per_minute).ceil() as u64
    }
}

/// One owed purge (a row of the `purges` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    pub tag: String,
    pub queued_ms: u64,
    /// Purged once already; due again at `due_ms`.
    pub settle: bool,
    pub due_ms: u64,
}

/// One purge call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Exactly these tags.
    Tags(Vec<String>),
    /// The coarse cover: these prefixes, and the tags no prefix covers.
    Coarse { tags: Vec<String>, prefixes: Vec<String> },
    /// Everything on the edge.
    Everything,
}

impl Call {
    /// Whether the call draws on the tag-and-prefix bucket.
    pub fn costs_a_token(&self) -> bool {
        !matches!(self, Call::Everything)
    }
}

/// What to do now.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Calls, each with the owed tags it covers.
    pub calls: Vec<(Call, Vec<String>)>,
    /// The bucket once the calls are made.
    pub bucket: Bucket,
    /// Settle rows past the edge lifetime: remove them without a call.
    pub expired: Vec<String>,
    /// When to run again, if something is left waiting.
    pub wake_at: Option<u64>,
}

/// Plans the purges owed at `now_ms`.
pub fn plan(owed: &[Owed], bucket: Bucket, budget: &Budget, now_ms: u64) -> Plan {
    let mut bucket = bucket.refilled(budget, now_ms);
    let expired: Vec<String> = owed
        .iter()
        .filter(|o| o.settle && now_ms.saturating_sub(o.queued_ms) > budget.edge_ttl_ms)
        .map(|o| o.tag.clone())
        .collect();
    let live = || owed.iter().filter(|o| !expired.contains(&o.tag));
    let regular: Vec<&Owed> = live().filter(|o| !o.settle).collect();
    let settles_due: Vec<&Owed> = live().filter(|o| o.settle && o.due_ms <= now_ms).collect();
    let next_settle = live().filter(|o| o.settle && o.due_ms > now_ms).map(|o| o.due_ms).min();
    let mut calls = Vec::new();
    let mut wake_at = next_settle;

    let exact = |tags: &[&Owed]| -> Vec<(Call, Vec<String>)> {
        tags.chunks(budget.per_call.max(1))
            .map(|chunk| {
                let tags: Vec<String> = chunk.iter().map(|o| o.tag.clone()).collect();
                (Call::Tags(tags.clone()), tags)
            })
            .collect()
    };
    if regular.is_empty() {
        // Only settles: worth their own calls while half the bucket stays in reserve.
        let needed = settles_due.len().div_ceil(budget.per_call.max(1)) as f64;
        let reserve = (budget.burst / 2.0).floor();
        if !settles_due.is_empty() && bucket.tokens + EPSILON - needed >= reserve {
            calls = exact(&settles_due);
        } else if !settles_due.is_empty() {
            // They wait for the next call made anyway, or for the bucket to refill.
            wake_at = earliest(wake_at, Some(bucket.time_of(budget, (reserve + needed).min(budget.burst))));
        }
    } else {
        let all: Vec<&Owed> = regular.iter().chain(&settles_due).copied().collect();
        let needed = all.len().div_ceil(budget.per_call.max(1));
        let oldest = regular.iter().map(|o| o.queued_ms).min().unwrap_or(now_ms);
        if regular.iter().any(|o| o.tag == EVERYTHING) {
            calls.push((Call::Everything, all.iter().map(|o| o.tag.clone()).collect()));
        } else if bucket.tokens + EPSILON >= needed as f64 {
            calls = exact(&all);
        } else if bucket.tokens + EPSILON >= 1.0 {
            match coarse(&all, budget.per_call) {
                Some(call) => calls.push((call, all.iter().map(|o| o.tag.clone()).collect())),
                None => calls.push((Call::Everything, all.iter().map(|o| o.tag.clone()).collect())),
            }
        } else if now_ms.saturating_sub(oldest) >= budget.max_wait_ms {
            calls.push((Call::Everything, all.iter().map(|o| o.tag.clone()).collect()));
        } else {
            wake_at = earliest(wake_at, Some(bucket.time_of(budget, 1.0).min(oldest + budget.max_wait_ms)));
        }
    }
    bucket.tokens = (bucket.tokens - calls.iter().filter(|(c, _)| c.costs_a_token()).count() as f64).max(0.0);
    Plan { calls, bucket, expired, wake_at }
}

/// The coarse cover of some tags in one call, if it fits one.
fn coarse(owed: &[&Owed], per_call: usize) -> Option<Call> {
    let mut tags = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for o in owed {
        match prefixes_covering(&o.tag) {
            Some(ps) => {
                for p in ps {
                    if !prefixes.iter().any(|q| q == p) {
                        prefixes.push((*p).to_owned());
                    }
                }
            }
            None => {
                if !tags.contains(&o.tag) {
                    tags.push(o.tag.clone());
                }
            }
        }
    }
    (tags.len() + prefixes.len() <= per_call).then_some(Call::Coarse { tags, prefixes })
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_767_225_600_000;

    fn owed(tags: &[&str]) -> Vec<Owed> {
        tags.iter().map(|t| Owed { tag: (*t).to_owned(), queued_ms: NOW, settle: false, due_ms: NOW }).collect()
    }

    fn many(n: usize) -> Vec<Owed> {
        (0..n).map(|i| Owed { tag: format!("project:{i}"), queued_ms: NOW, settle: false, due_ms: NOW }).collect()
    }

    fn covered(plan: &Plan) -> Vec<String> {
        let mut tags: Vec<String> = plan.calls.iter().flat_map(|(_, t)| t.clone()).collect();
        tags.sort();
        tags
    }

    #[test]
    fn an_owed_everything_purges_everything_in_one_call_without_a_token() {
        let budget = Budget::default();
        let mut tags = many(300);
        tags.extend(owed(&[EVERYTHING]));
        let p = plan(&tags, Bucket { tokens: 0.0, at_ms: NOW }, &budget, NOW);
        assert_eq!(p.calls.len(), 1);
        assert_eq!(p.calls[0].0, Call::Everything);
        assert_eq!(covered(&p).len(), 301);
    }

    #[test]
    fn the_bucket_refills_at_the_rate_up_to_the_burst() {
        let budget = Budget::default();
        let empty = Bucket { tokens: 0.0, at_ms: NOW };
        assert_eq!(empty.refilled(&budget, NOW + 12_000).tokens, 1.0);
        assert_eq!(empty.refilled(&budget, NOW + 3_600_000).tokens, 25.0);
        assert_eq!(empty.time_of(&budget, 1.0), NOW + 12_000);
    }

    #[test]
    fn owed_tags_are_purged_exactly_at_once_while_tokens_last() {
        let budget = Budget::default();
        let p = plan(&owed(&["project:1", "front", "listing:1"]), Bucket::full(&budget, NOW), &budget, NOW);
        assert_eq!(p.calls.len(), 1);
        assert_eq!(p.calls[0].0, Call::Tags(vec!["project:1".into(), "front".into(), "listing:1".into()]));
        assert_eq!(p.bucket.tokens, 24.0);
        assert_eq!(p.wake_at, None);
    }

    #[test]
    fn calls_carry_a_hundred_tags_each() {
        let budget = Budget::default();
        let p = plan(&many(250), Bucket::full(&budget, NOW), &budget, NOW);
        let sizes: Vec<usize> = p.calls.iter().map(|(_, t)| t.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        assert_eq!(p.bucket.tokens, 22.0);
    }

    #[test]
    fn fewer_tokens_than_exact_calls_need_purge_the_coarse_cover_in_one_call() {
        let budget = Budget::default();
        let mut tags = many(250);
        tags.extend(owed(&["front", "tag:solar", "tag:solar:3"]));
        let p = plan(&tags, Bucket { tokens: 2.0, at_ms: NOW }, &budget, NOW);
        assert_eq!(p.calls.len(), 1);
        let Call::Coarse { tags: exact, prefixes } = &p.calls[0].0 else { panic!("{p:?}") };
        assert_eq!(exact, &vec!["front".to_owned()]);
        assert_eq!(prefixes, &vec!["/projects/", "/api/v1/projects/", "/tags/", "/api/v1/tags/"]);
        assert_eq!(covered(&p).len(), 253, "every owed tag is covered");
        assert_eq!(p.bucket.tokens, 1.0);
    }

    #[test]
    fn without_a_token_owed_tags_wait_for_the_next_one_then_everything_goes() {
        let budget = Budget::default();
        let empty = Bucket { tokens: 0.0, at_ms: NOW };
        let p = plan(&owed(&["project:1"]), empty, &budget, NOW);
        assert!(p.calls.is_empty());
        assert_eq!(p.wake_at, Some(NOW + 12_000));
        // An owed tag that waited max_wait_ms, with the bucket still empty: purge everything.
        let mut old = owed(&["project:1"]);
        old[0].queued_ms = NOW - budget.max_wait_ms;
        let p = plan(&old, empty, &budget, NOW);
        assert_eq!(p.calls, vec![(Call::Everything, vec!["project:1".to_owned()])]);
        assert_eq!(p.bucket.tokens, 0.0, "everything has a bucket of its own");
    }

    #[test]
    fn settles_ride_along_calls_made_anyway_and_alone_only_with_a_half_full_bucket() {
        let budget = Budget::default();
        let mut tags = owed(&["project:1"]);
        tags.push(Owed { tag: "project:2".into(), queued_ms: NOW - 5_000, settle: true, due_ms: NOW - 1 });
        tags.push(Owed { tag: "project:3".into(), queued_ms: NOW, settle: true, due_ms: NOW + 2_000 });
        let p = plan(&tags, Bucket { tokens: 1.0, at_ms: NOW }, &budget, NOW);
        assert_eq!(p.calls[0].0, Call::Tags(vec!["project:1".into(), "project:2".into()]));
        assert_eq!(p.wake_at, Some(NOW + 2_000), "the next settle");
        // Alone: only with the bucket half full.
        let settle = vec![Owed { tag: "project:2".into(), queued_ms: NOW, settle: true, due_ms: NOW }];
        assert!(plan(&settle, Bucket { tokens: 12.0, at_ms: NOW }, &budget, NOW).calls.is_empty());
        assert_eq!(plan(&settle, Bucket { tokens: 14.0, at_ms: NOW }, &budget, NOW).calls.len(), 1);
    }

    #[test]
    fn settles_past_the_edge_lifetime_are_dropped_without_a_call() {
        let budget = Budget::default();
        let old =
            vec![Owed { tag: "project:2".into(), queued_ms: NOW - budget.edge_ttl_ms - 1, settle: true, due_ms: 0 }];
        let p = plan(&old, Bucket { tokens: 0.0, at_ms: NOW }, &budget, NOW);
        assert_eq!((p.calls.len(), p.expired.clone()), (0, vec!["project:2".to_owned()]));
    }

    #[test]
    fn no_owed_tag_is_ever_left_out_of_a_plan_that_makes_calls() {
        // Over many sizes and bucket levels: either every regular owed tag is covered by a
        // call, or none is and the plan says when to run again.
        let budget = Budget::default();
        for n in [1, 2, 99, 100, 101, 450, 2600] {
            for tokens in [0.0, 0.5, 1.0, 2.0, 5.0, 25.0] {
                let tags = many(n);
                let p = plan(&tags, Bucket { tokens, at_ms: NOW }, &budget, NOW);
                if p.calls.is_empty() {
                    assert!(p.wake_at.is_some_and(|t| t > NOW), "{n} tags, {tokens} tokens");
                } else {
                    assert_eq!(covered(&p).len(), n, "{n} tags, {tokens} tokens");
                    assert!(p.bucket.tokens >= -0.0, "{n} tags, {tokens} tokens: {}", p.bucket.tokens);
                }
            }
        }
    }
}
