//! Property tests of the ranking: `best_first` is a total order, and a detail page (HTML and
//! JSON twin) is the same whatever order its threads arrive in, with every section and every
//! thread's replies best first.

use generator::model::{Project, Thread, ThreadType};
use generator::pages::{render, PageData, SiteConfig};
use generator::ranking::{best_first, wilson_lower_bound};
use generator::testing::Rng;
use std::cmp::Ordering;

const CASES: u64 = 300;

fn random_thread(rng: &mut Rng, id: i64) -> Thread {
    let kinds = [ThreadType::Problem, ThreadType::Solution, ThreadType::Comment];
    Thread {
        thread_id: id,
        project_id: 1,
        // Parents among older threads, now and then a missing one.
        parent_id: (id > 1 && rng.chance(50)).then(|| 1 + rng.below(id as u64 + 1) as i64),
        thread_type: *rng.pick(&kinds).expect("kinds"),
        message: format!("thread {id}"),
        // Few distinct counts and times, so ties are common.
        up_vote: rng.below(6) as i64,
        down_vote: rng.below(4) as i64,
        created_at: format!("2024-01-0{}T00:00:00Z", 1 + rng.below(3)),
        ..Thread::default()
    }
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

#[test]
fn best_first_is_a_total_order() {
    let mut rng = Rng::new(7);
    let threads: Vec<Thread> = (1..=60).map(|id| random_thread(&mut rng, id)).collect();
    for a in &threads {
        assert_eq!(best_first(a, a), Ordering::Equal, "reflexive");
        for b in &threads {
            assert_eq!(best_first(a, b), best_first(b, a).reverse(), "antisymmetric: {} {}", a.thread_id, b.thread_id);
            if a.thread_id != b.thread_id {
                assert_ne!(best_first(a, b), Ordering::Equal, "no two threads tie: the id decides");
            }
            for c in &threads {
                if best_first(a, b) == Ordering::Less && best_first(b, c) == Ordering::Less {
                    assert_eq!(best_first(a, c), Ordering::Less, "transitive");
                }
            }
        }
    }
}

#[test]
fn a_detail_page_is_ranked_whatever_order_its_threads_arrive_in() {
    let site = SiteConfig { base_url: "https://crowdfund.example".into(), site_name: "crowdfund".into() };
    for seed in 0..CASES {
        let mut rng = Rng::new(seed);
        let threads: Vec<Thread> = (1..=1 + rng.below(25) as i64).map(|id| random_thread(&mut rng, id)).collect();
        let project = |threads: Vec<Thread>| PageData::Detail {
            project: Project {
                project_id: 1,
                project_name: "Ranked".into(),
                tagline: "t".into(),
                created_at: "2024-01-01T00:00:00Z".into(),
                threads,
                ..Project::default()
            },
        };
        let expected = render(&site, &project(threads.clone())).expect("render");
        let mut shuffled = threads.clone();
        shuffle(&mut rng, &mut shuffled);
        assert_eq!(render(&site, &project(shuffled)).expect("render"), expected, "seed {seed}");

        // The twin lists every thread once; siblings (same parent, or the same section's
        // roots) appear best first.
        let twin: serde_json::Value = serde_json::from_slice(&expected[1].body).expect("json twin");
        let listed: Vec<Thread> = serde_json::from_value(twin["threads"].clone()).expect("threads");
        assert_eq!(listed.len(), threads.len(), "seed {seed}");
        let ids: std::collections::BTreeSet<i64> = threads.iter().map(|t| t.thread_id).collect();
        let parent_of = |t: &Thread| t.parent_id.filter(|p| *p < t.thread_id && ids.contains(p));
        for (i, a) in listed.iter().enumerate() {
            for b in &listed[i + 1..] {
                let siblings =
                    parent_of(a) == parent_of(b) && (parent_of(a).is_some() || a.thread_type == b.thread_type);
                if siblings {
                    assert_eq!(
                        best_first(a, b),
                        Ordering::Less,
                        "seed {seed}: #{} before #{}",
                        a.thread_id,
                        b.thread_id
                    );
                }
            }
        }
    }
}

#[test]
fn more_votes_at_the_same_share_rank_higher() {
    for n in 1..50 {
        assert!(wilson_lower_bound(9 * (n + 1), n + 1) > wilson_lower_bound(9 * n, n));
    }
}
