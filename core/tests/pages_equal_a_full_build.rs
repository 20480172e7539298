//! The last link between the Worker's pages and a full build, proven natively: random sequences
//! of writes go through the real use cases into SQLite, every change is published by the real
//! publisher into the page store, and at the end
//! - what the SQL read model answers for every page equals what `SiteIndex` answers for the
//!   same data (exported), and
//! - the incrementally published store equals a full build of that data, byte for byte.
//!
//! - every page read through an edge cache (a fake that keeps answers under their `Cache-Tag`s
//!   until a purge covers them) during the sequence answers, at the end, what the full build
//!   holds: the tags the pages carry and the purges the publisher makes agree.
//!
//! A failure prints the seed and the last operations so it can be replayed.

mod common;

use common::AUTHOR;

use std::collections::BTreeMap;

use crowdfund_core::moderation::{self, ProjectAction, ThreadAction};
use crowdfund_core::platform::Platform;
use crowdfund_core::projects;
use crowdfund_core::read_model::SqlReadModel;
use crowdfund_core::rules::input::{ProposeRequest, TagEdit, ThreadWrite};
use crowdfund_core::rules::votes::Direction;
use crowdfund_core::testing::{run, TestPlatform};
use crowdfund_core::threads;
use crowdfund_core::write::Written;
use crowdfund_core::{export, outbox};
use generator::gather;
use generator::model::{Project, Snapshot, ThreadType};
use generator::pages::deployment_data;
use generator::site::{self, SiteIndex};
use generator::testing::Rng;

const TAGS: [&str; 4] = ["solar", "water", "repair", "x-y"];

struct World {
    p: TestPlatform,
    projects: i64,
    log: Vec<String>,
    /// Every URL read through the edge.
    read: std::collections::BTreeSet<String>,
}

impl World {
    fn new() -> Self {
        World { p: TestPlatform::default(), projects: 0, log: Vec::new(), read: Default::default() }
    }

    /// Reads a few pages through the edge, as visitors would, so that stale copies can stay.
    fn browse(&mut self, rng: &mut Rng) {
        let id = rng.below(self.projects.max(1) as u64) as i64 + 1;
        let tag = TAGS[rng.below(TAGS.len() as u64) as usize];
        let urls = [
            "/".to_owned(),
            "/projects".to_owned(),
            format!("/projects/{id}/"),
            format!("/projects/{id}"),
            format!("/api/v1/projects/{id}.json"),
            format!("/tags/{tag}/"),
            format!("/tags/{tag}/page/{}/", rng.below(3) + 1),
            format!("/page/{}/", rng.below(3) + 1),
            "/feed.xml".to_owned(),
            "/sitemap.xml".to_owned(),
        ];
        for _ in 0..3 {
            let url = urls[rng.below(urls.len() as u64) as usize].clone();
            self.p.edge.get(&self.p, &url);
            self.read.insert(url);
        }
    }

    fn propose(&mut self, rng: &mut Rng) {
        let n = self.projects + 1;
        let tags = TAGS.iter().filter(|_| rng.chance(40)).map(|t| (*t).to_owned()).collect();
        let request = ProposeRequest {
            project_name: format!("Project {n} <i>"),
            tagline: format!("Tagline & {n}"),
            tags,
            problems: (0..rng.below(3)).map(|i| format!("problem *{i}*")).collect(),
            solutions: (0..rng.below(2)).map(|i| format!("solution {i} <b>x</b>")).collect(),
        };
        let proposal = request.validate().expect("valid");
        let written = run(projects::propose(&self.p.db, &proposal, AUTHOR, None, self.p.random_id(), &self.p.now()));
        self.send(written.expect("proposed"));
        self.projects += 1;
        self.log.push(format!("propose {n}"));
    }

    fn change(&mut self, rng: &mut Rng) {
        if self.projects == 0 || rng.chance(25) {
            return self.propose(rng);
        }
        let id = rng.below(self.projects as u64) as i64 + 1;
        let threads = common::thread_ids(&self.p, id);
        let now = self.p.now();
        match rng.below(5) {
            0 => {
                let tag = TAGS[rng.below(TAGS.len() as u64) as usize].to_owned();
                let edit = if rng.chance(50) {
                    TagEdit { add: vec![tag.clone()], remove: vec![] }
                } else {
                    TagEdit { add: vec![], remove: vec![tag.clone()] }
                };
                self.log.push(format!("tags {id} {edit:?}"));
                match run(projects::update_tags(&self.p.db, id, &edit, AUTHOR, self.p.random_id(), &now)) {
                    Ok(written) => self.send(written),
                    Err(e) => assert_eq!(e.status(), 404, "a hidden project: {e}"),
                }
            }
            1 => {
                let parent =
                    (!threads.is_empty() && rng.chance(60)).then(|| threads[rng.below(threads.len() as u64) as usize]);
                let kind = [ThreadType::Problem, ThreadType::Solution, ThreadType::Comment][rng.below(3) as usize];
                let mut writes = vec![ThreadWrite::Add {
                    parent_id: parent,
                    thread_type: kind,
                    message: format!("m {}", rng.below(1000)),
                }];
                if let Some(first) = threads.first().filter(|_| rng.chance(30)) {
                    writes.push(ThreadWrite::Edit { thread_id: *first, message: "(edited) <script>".into() });
                }
                self.log.push(format!("threads {id} {writes:?}"));
                // Writes under a hidden thread, or in a hidden project, are 404s that change nothing.
                match run(threads::update_threads(&self.p.db, id, &writes, AUTHOR, self.p.random_id(), &now)) {
                    Ok(written) => self.send(written),
                    Err(e) => assert_eq!(e.status(), 404, "{e}"),
                }
            }
            2 => {
                // A moderator hides or restores a thread (its replies go and come with it).
                let Some(thread) = threads.get(rng.below(threads.len().max(1) as u64) as usize).copied() else {
                    return;
                };
                let action = if rng.chance(60) { ThreadAction::Hide } else { ThreadAction::Restore };
                self.log.push(format!("moderate thread {thread} {action:?}"));
                let written = moderation::thread(&self.p.db, thread, &action, "mod", None, self.p.random_id(), &now);
                self.send(run(written).expect("moderated"));
            }
            3 if rng.chance(30) => {
                // A moderator hides or restores a whole project.
                let action = if rng.chance(50) { ProjectAction::Hide } else { ProjectAction::Restore };
                self.log.push(format!("moderate project {id} {action:?}"));
                let written = moderation::project(&self.p.db, id, action, "mod", None, self.p.random_id(), &now);
                self.send(run(written).expect("moderated"));
            }
            _ => {
                let Some(thread) = threads.get(rng.below(threads.len().max(1) as u64) as usize).copied() else {
                    return;
                };
                let voter = format!("voter-{}", rng.below(5));
                let direction = if rng.chance(70) { Direction::Up } else { Direction::Down };
                self.log.push(format!("vote {thread} {voter} {direction:?}"));
                // A vote on a thread pages do not show is refused (404) and changes nothing.
                match run(threads::vote(&self.p.db, thread, &voter, direction, self.p.random_id(), &now)) {
                    Ok(written) => self.send(written),
                    Err(e) => assert_eq!(e.status(), 404, "{e}"),
                }
            }
        }
        // The clock moves, so outbox rows and threads get distinct times.
        self.p.advance(1_000 + rng.below(5_000));
    }

    /// Sends a write's change to the queue, as its route does after the commit.
    fn send(&self, written: Written) {
        if let Some(message) = written.message {
            run(outbox::send(&self.p, &message));
        }
    }

    /// Everything in the database, through the admin export.
    fn snapshot(&self) -> Snapshot {
        let mut projects = Vec::new();
        let mut after = 0;
        loop {
            let page = run(export::page(&self.p.db, &self.p.config.site, after, 50)).expect("export");
            let chunk: Vec<Project> = serde_json::from_value(page["projects"].clone()).expect("projects");
            projects.extend(chunk);
            match page["next_after"].as_i64() {
                Some(next) => after = next,
                None => return Snapshot { projects },
            }
        }
    }
}

/// Returns how many moderation actions the run took.
fn run_seed(seed: u64, initial: usize, steps: usize, publish_every: u64) -> usize {
    let mut rng = Rng::new(seed);
    let mut world = World::new();
    for _ in 0..initial {
        world.propose(&mut rng);
    }
    common::drain(&world.p);
    for step in 0..steps {
        world.change(&mut rng);
        world.browse(&mut rng);
        // Publish after some changes only: batches of several changes are folded together.
        if (step as u64).is_multiple_of(publish_every) {
            common::drain(&world.p);
        }
    }
    common::drain(&world.p);
    let context = || {
        format!(
            "seed {seed}; last operations:\n  {}",
            world.log.iter().rev().take(8).cloned().collect::<Vec<_>>().join("\n  ")
        )
    };

    // 1. The two read models answer alike for every page of the site.
    let snapshot = world.snapshot();
    let index = SiteIndex::new(&snapshot);
    let sql = SqlReadModel(&world.p.db);
    for key in index.all_keys() {
        let from_sql = run(gather::page_data(&sql, &key)).expect("gathered");
        assert_eq!(from_sql, index.page_data(&key), "{key:?} gathered differently; {}", context());
    }

    // 2. The published store equals a full build (less the pages answered from the code).
    let site = world.p.config.site.clone();
    let mut full = BTreeMap::new();
    for key in index.all_keys().into_iter().filter(|k| deployment_data(k).is_none()) {
        for page in generator::render(&site, &index.page_data(&key)).expect("render") {
            full.insert(page.key, (page.content_type.to_owned(), page.body));
        }
    }
    let built = site::build(&site, &snapshot).expect("build");
    assert!(built.iter().all(|p| full.contains_key(&p.key)
        || p.key.starts_with("static/")
        || p.key == "robots.txt"
        || p.key == "404.html"));
    let store = world.p.pages.objects.borrow();
    for (key, (content_type, body)) in &full {
        match store.get(key) {
            None => panic!("{key} was never published; {}", context()),
            Some((ct, b)) => {
                assert_eq!(ct, content_type, "{key}");
                assert!(
                    b == body,
                    "{key} is stale\n--- published\n{}\n--- full build\n{}\n{}",
                    String::from_utf8_lossy(b),
                    String::from_utf8_lossy(body),
                    context()
                );
            }
        }
    }
    if let Some(extra) = store.keys().find(|k| !full.contains_key(*k)) {
        panic!("{extra} was left behind in the store; {}", context());
    }
    drop(store);

    // 3. Every page read through the edge is now what the full build holds (or gone).
    for url in &world.read {
        let at_edge = world.p.edge.get(&world.p, url);
        match full.get(&generator::paths::object_key_for_path(url)) {
            Some((_, body)) => assert!(
                at_edge.status == 200 && &at_edge.body == body,
                "{url} at the edge ({}, {}) is not the full build's\n{}\n{}",
                at_edge.status,
                at_edge.header("cf-cache-status").unwrap_or(""),
                String::from_utf8_lossy(&at_edge.body),
                context()
            ),
            None => assert_eq!(at_edge.status, 404, "{url} should be gone at the edge; {}", context()),
        }
    }
    assert!(world.p.edge.hits.get() > 0, "the edge served from its cache");

    // 4. The search index holds exactly the shown projects, with their name, tagline and tags.
    #[derive(serde::Deserialize, PartialEq, Debug)]
    struct Indexed {
        project_id: i64,
        name: String,
        tagline: String,
        tags: String,
    }
    let sorted_tags = |tags: &str| {
        let mut words: Vec<&str> = tags.split_whitespace().collect();
        words.sort_unstable();
        words.join(" ")
    };
    let indexed: Vec<Indexed> = world
        .p
        .db
        .select::<Indexed>("SELECT rowid AS project_id, name, tagline, tags FROM project_search ORDER BY rowid")
        .into_iter()
        .map(|i| Indexed { tags: sorted_tags(&i.tags), ..i })
        .collect();
    let shown: Vec<Indexed> = snapshot
        .projects
        .iter()
        .filter(|p| !p.hidden)
        .map(|p| Indexed {
            project_id: p.project_id,
            name: p.project_name.clone(),
            tagline: p.tagline.clone(),
            tags: sorted_tags(&p.tags.join(" ")),
        })
        .collect();
    assert_eq!(indexed, shown, "the search index; {}", context());
    world.log.iter().filter(|l| l.starts_with("moderate")).count()
}

#[test]
fn small_sites_publish_what_a_full_build_writes() {
    let moderated: usize = (0..30).map(|seed| run_seed(seed, (seed % 4) as usize, 30, 1 + seed % 3)).sum();
    assert!(moderated > 30, "moderators hid and restored things ({moderated} actions)");
}

#[test]
fn sites_across_page_boundaries_publish_what_a_full_build_writes() {
    // Enough projects for several listing pages and tags with several pages (50 a page).
    let moderated: usize = (100..102).map(|seed| run_seed(seed, 120, 80, 4)).sum();
    assert!(moderated > 5, "moderators hid and restored things ({moderated} actions)");
}
