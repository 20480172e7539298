//! The order threads are shown in: best first, by the lower bound of the Wilson score
//! interval on their share of up-votes.
//!
//! A plain score (ups minus downs, or the up share) lets a thread with one early up-vote beat
//! one with a hundred votes at 90 %. The Wilson lower bound asks instead "how good is this
//! thread at least, with 95 % confidence, given the votes seen so far": one up-vote of one
//! gives 0.21, ninety of a hundred 0.83, no votes 0. It is the bound Reddit's "best" sort and
//! Evan Miller's "How Not To Sort By Average Rating" use. Ties (every unvoted thread, say)
//! keep the order threads were written in, oldest first, then by id: the order is total, so
//! a page never depends on the order a database returned rows in.

use std::cmp::Ordering;

use crate::model::{Project, Thread};

/// z for a two-sided 95 % interval.
const Z: f64 = 1.959_963_984_540_054;

/// The lower bound of the Wilson score interval on the up share of `up` of `up + down`
/// votes (0 without votes; counts below zero count as zero).
pub fn wilson_lower_bound(up: i64, down: i64) -> f64 {
    let (up, down) = (up.max(0) as f64, down.max(0) as f64);
    let n = up + down;
    if n == 0.0 {
        return 0.0;
    }
    let p = up / n;
    let z2 = Z * Z;
    let centre = p + z2 / (2.0 * n);
    let margin = Z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).max(0.0)
}

/// Best first: the higher Wilson bound, then the older thread, then the lower id.
pub fn best_first(a: &Thread, b: &Thread) -> Ordering {
    wilson_lower_bound(b.up_vote, b.down_vote)
        .total_cmp(&wilson_lower_bound(a.up_vote, a.down_vote))
        .then_with(|| a.created_at.cmp(&b.created_at))
        .then_with(|| a.thread_id.cmp(&b.thread_id))
}

/// What the Top listing orders a project by, as migration 0008 keeps it in D1: the votes of
/// its threads that are not hidden themselves, and the newest of its own and its threads'
/// creation times.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectFacts {
    pub project_id: i64,
    pub up_total: i64,
    pub down_total: i64,
    pub last_active: String,
}

impl ProjectFacts {
    /// The facts of a project (with all its threads, hidden ones included).
    pub fn of(project: &Project) -> Self {
        let shown = project.threads.iter().filter(|t| !t.hidden);
        let (up_total, down_total) = shown.fold((0, 0), |(u, d), t| (u + t.up_vote, d + t.down_vote));
        let newest_thread = project.threads.iter().map(|t| t.created_at.as_str()).max().unwrap_or("");
        ProjectFacts {
            project_id: project.project_id,
            up_total,
            down_total,
            last_active: project.created_at.as_str().max(newest_thread).to_owned(),
        }
    }

    /// The up share smoothed towards one half, `(up + 1) / (up + down + 2)`: computed in SQL
    /// alike (no square root there), so D1's index and a full build order projects the same.
    pub fn score(&self) -> f64 {
        (self.up_total as f64 + 1.0) / ((self.up_total + self.down_total) as f64 + 2.0)
    }
}

/// Facts ordered Top first, for a sorted set of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopEntry(pub ProjectFacts);

impl Ord for TopEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        top_first(&self.0, &other.0)
    }
}

impl PartialOrd for TopEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Top first: the higher score, then the more recent activity, then the newer project.
pub fn top_first(a: &ProjectFacts, b: &ProjectFacts) -> Ordering {
    b.score()
        .total_cmp(&a.score())
        .then_with(|| b.last_active.cmp(&a.last_active))
        .then_with(|| b.project_id.cmp(&a.project_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ThreadType;

    fn thread(id: i64, up: i64, down: i64, created_at: &str) -> Thread {
        Thread {
            thread_id: id,
            project_id: 1,
            parent_id: None,
            thread_type: ThreadType::Problem,
            message: String::new(),
            up_vote: up,
            down_vote: down,
            created_at: created_at.into(),
            author: None,
            author_name: None,
            edited_at: None,
            revisions: vec![],
            hidden: false,
        }
    }

    #[test]
    fn one_early_up_vote_does_not_beat_a_hundred_votes_at_ninety_percent() {
        let lucky = wilson_lower_bound(1, 0);
        let proven = wilson_lower_bound(90, 10);
        assert!((lucky - 0.2065).abs() < 1e-3, "{lucky}");
        assert!((proven - 0.8256).abs() < 1e-3, "{proven}");
        assert!(proven > lucky);
        assert_eq!(wilson_lower_bound(0, 0), 0.0);
        assert_eq!(wilson_lower_bound(0, 5), 0.0);
        assert_eq!(wilson_lower_bound(-3, -3), 0.0, "nonsense counts rank as none");
        assert!(wilson_lower_bound(3, 0) > wilson_lower_bound(1, 0), "more agreement, more confidence");
        assert!(wilson_lower_bound(i64::MAX, 0) <= 1.0);
    }

    #[test]
    fn top_projects_by_smoothed_share_then_activity_then_newest() {
        let facts = |id: i64, up: i64, down: i64, active: &str| ProjectFacts {
            project_id: id,
            up_total: up,
            down_total: down,
            last_active: active.into(),
        };
        let mut all = [
            facts(1, 1, 0, "2024-01-01"),
            facts(2, 90, 10, "2024-01-01"),
            facts(3, 0, 0, "2024-03-01"),
            facts(4, 0, 0, "2024-02-01"),
            facts(5, 0, 0, "2024-02-01"),
            facts(6, 1, 3, "2024-09-01"),
        ];
        all.sort_by(top_first);
        let ids: Vec<i64> = all.iter().map(|f| f.project_id).collect();
        assert_eq!(ids, vec![2, 1, 3, 5, 4, 6], "90 of 100 beats one of one; unvoted by activity, then newest");
        for a in &all {
            for b in &all {
                assert_eq!(top_first(a, b), top_first(b, a).reverse());
                assert_eq!(top_first(a, b) == Ordering::Equal, a.project_id == b.project_id, "total");
            }
        }
    }

    #[test]
    fn ties_keep_the_order_they_were_written_in() {
        let old = thread(2, 0, 0, "2024-01-01T00:00:00Z");
        let new = thread(1, 0, 0, "2024-02-01T00:00:00Z");
        let same_time = thread(3, 0, 0, "2024-01-01T00:00:00Z");
        let voted = thread(4, 3, 0, "2024-03-01T00:00:00Z");
        let mut threads = [&new, &same_time, &voted, &old];
        threads.sort_by(|a, b| best_first(a, b));
        let ids: Vec<i64> = threads.iter().map(|t| t.thread_id).collect();
        assert_eq!(ids, vec![4, 2, 3, 1]);
    }
}
