//! Property: a page store maintained incrementally (render only what `paths::pages_touched`
//! names, resolved by `SiteIndex`) equals a full build of the final data, byte for byte,
//! object keys included.
//!
//! Random change sequences come from a small seeded generator (no extra dependencies); a
//! failure prints the seed and the changes so it can be replayed.

use std::collections::BTreeMap;

use generator::model::{Project, Snapshot, Thread, ThreadType};
use generator::pages::{render, PageData, SiteConfig};
use generator::paths::{object_keys_of, pages_touched, Change};
use generator::site::{self, SiteIndex};
use generator::testing::Rng;

/// A page store: object key to (content type, bytes).
type Store = BTreeMap<String, (&'static str, Vec<u8>)>;

const TAGS: [&str; 4] = ["solar", "water", "repair", "x-y"];

/// The test's own copy of the data (what D1 holds), plus the index the pages are read from.
struct World {
    projects: BTreeMap<i64, Project>,
    index: SiteIndex,
    next_thread: i64,
}

impl World {
    fn new() -> Self {
        World { projects: BTreeMap::new(), index: SiteIndex::default(), next_thread: 1 }
    }

    fn save(&mut self, project: Project) {
        self.index.upsert(project.clone());
        self.projects.insert(project.project_id, project);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot { projects: self.projects.values().cloned().collect() }
    }

    fn thread(&mut self, rng: &mut Rng, project_id: i64, parent_id: Option<i64>, kind: ThreadType) -> Thread {
        let thread_id = self.next_thread;
        self.next_thread += 1;
        Thread {
            thread_id,
            project_id,
            parent_id,
            thread_type: kind,
            message: format!("message *{thread_id}* <b>{}</b>", rng.below(1000)),
            up_vote: 0,
            down_vote: 0,
            created_at: format!("2024-02-{:02}T10:{:02}:00Z", rng.below(28) + 1, rng.below(60)),
            ..Default::default()
        }
    }

    fn random_tags(rng: &mut Rng) -> Vec<String> {
        let mut tags: Vec<String> = TAGS.iter().filter(|_| rng.chance(40)).map(|t| (*t).to_owned()).collect();
        tags.sort();
        tags
    }

    /// Applies one random change to the data and returns what the Worker would enqueue.
    fn change(&mut self, rng: &mut Rng) -> Change {
        let ids: Vec<i64> = self.projects.keys().copied().collect();
        let Some(&project_id) = rng.pick(&ids).filter(|_| !rng.chance(25)) else {
            return self.propose(rng);
        };
        let mut project = self.projects[&project_id].clone();
        let change = match rng.below(3) {
            0 => {
                let tag = TAGS[rng.below(TAGS.len() as u64) as usize].to_owned();
                let (added, removed) = if project.tags.contains(&tag) {
                    project.tags.retain(|t| *t != tag);
                    (vec![], vec![tag])
                } else {
                    project.tags.push(tag.clone());
                    project.tags.sort();
                    (vec![tag], vec![])
                };
                Change::TagsChanged { project_id, added, removed }
            }
            1 => {
                let parents: Vec<i64> = project.threads.iter().map(|t| t.thread_id).collect();
                let parent = rng.pick(&parents).copied().filter(|_| rng.chance(60));
                let kind = [ThreadType::Problem, ThreadType::Solution, ThreadType::Comment][rng.below(3) as usize];
                let thread = self.thread(rng, project_id, parent, kind);
                project.threads.push(thread);
                if let Some(t) = project.threads.first_mut().filter(|_| rng.chance(30)) {
                    t.message.push_str(" (edited)");
                }
                Change::ThreadsChanged { project_id }
            }
            _ => {
                let n = project.threads.len() as u64;
                if let Some(t) = project.threads.get_mut(rng.below(n) as usize) {
                    if rng.chance(70) {
                        t.up_vote += 1;
                    } else {
                        t.down_vote += 1;
                    }
                }
                Change::Voted { project_id }
            }
        };
        self.save(project);
        change
    }

    fn propose(&mut self, rng: &mut Rng) -> Change {
        let project_id = self.projects.keys().next_back().map_or(1, |id| id + 1);
        let tags = Self::random_tags(rng);
        let mut threads = Vec::new();
        for _ in 0..rng.below(3) {
            threads.push(self.thread(rng, project_id, None, ThreadType::Problem));
        }
        for _ in 0..rng.below(2) {
            threads.push(self.thread(rng, project_id, None, ThreadType::Solution));
        }
        self.save(Project {
            project_id,
            project_name: format!("Project {project_id} <i>"),
            tagline: format!("Tagline & {project_id}"),
            tags: tags.clone(),
            created_at: format!("2024-01-{:02}T00:00:{:02}Z", project_id % 28 + 1, project_id % 60),
            threads,
            ..Default::default()
        });
        Change::Proposed { project_id, tags }
    }
}

fn store_of(pages: Vec<generator::Page>) -> Store {
    let mut store = Store::new();
    for page in pages {
        let key = page.key.clone();
        assert!(store.insert(page.key, (page.content_type, page.body)).is_none(), "two pages write {key}");
    }
    store
}

/// Re-renders what one change touched, the way the queue consumer does.
fn apply(site: &SiteConfig, index: &SiteIndex, change: &Change, store: &mut Store) {
    for target in pages_touched(change) {
        for key in index.resolve(&target) {
            match index.page_data(&key) {
                PageData::Gone(gone) => {
                    for object in object_keys_of(&gone) {
                        store.remove(&object);
                    }
                }
                data => {
                    for page in render(site, &data).expect("render") {
                        store.insert(page.key, (page.content_type, page.body));
                    }
                }
            }
        }
    }
}

fn first_difference(incremental: &Store, full: &Store) -> String {
    for (key, (_, body)) in full {
        match incremental.get(key) {
            None => return format!("missing from the incremental store: {key}"),
            Some((_, b)) if b != body => {
                return format!("stale: {key}\n--- incremental\n{}\n--- full\n{}", lossy(b), lossy(body))
            }
            Some(_) => {}
        }
    }
    match incremental.keys().find(|k| !full.contains_key(*k)) {
        Some(key) => format!("left behind in the incremental store: {key}"),
        None => "content types differ".into(),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(seed: u64, initial: usize, steps: usize) {
    let site = SiteConfig::default();
    let mut rng = Rng::new(seed);
    let mut world = World::new();
    for _ in 0..initial {
        world.propose(&mut rng);
    }
    let mut store = store_of(site::build(&site, &world.snapshot()).expect("build"));
    let mut log = Vec::new();
    for _ in 0..steps {
        let change = world.change(&mut rng);
        apply(&site, &world.index, &change, &mut store);
        log.push(change);
    }
    let full = store_of(site::build(&site, &world.snapshot()).expect("build"));
    if store != full {
        let tail: Vec<String> = log.iter().rev().take(10).rev().map(|c| format!("{c:?}")).collect();
        panic!(
            "seed {seed}: incremental != full build after {steps} changes\n{}\nlast changes:\n  {}",
            first_difference(&store, &full),
            tail.join("\n  ")
        );
    }
}

#[test]
fn incremental_equals_full_build_small_sites() {
    for seed in 0..60 {
        run(seed, (seed % 4) as usize, 40);
    }
}

#[test]
fn incremental_equals_full_build_across_page_boundaries() {
    // Enough projects for several listing pages and multi-page tags (50 a page).
    for seed in 100..104 {
        run(seed, 120, 150);
    }
}

#[test]
fn incremental_equals_full_build_from_empty() {
    run(7, 0, 200);
}
