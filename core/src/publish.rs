//! The publisher (the queue's consumer): folds a batch of changes into the set of pages they
//! touch (500 votes on one project are one render), re-reads the data, renders through the
//! generator, writes the pages to the page store, and in one batch clears the outbox rows it
//! covered and records the pages' cache tags as owed purges; then purges the edge (`purge`).
//! Idempotent: rendering again gives the same bytes, so at-least-once delivery is harmless.

use std::collections::BTreeSet;

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use generator::gather;
use generator::paths::{cache_tags, object_keys_of, pages_touched, PageKey, Target};
use generator::render;

use crate::error::ApiResult;
use crate::health;
use crate::outbox::{self, ChangeMessage};
use crate::platform::{Level, PageStore, Platform};
use crate::prefetch::Prefetched;
use crate::purge;
use crate::read_model::SqlReadModel;
use crate::rebuild::{self, RebuildMessage};
use crate::sql::Database;

/// What one publish did, for the log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    pub changes: usize,
    pub pages: usize,
    pub objects_written: usize,
    pub objects_deleted: usize,
    /// The cache tags of the pages written or deleted: what the edge must purge.
    pub tags: Vec<String>,
}

/// What to do with a queue message once its batch was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Ack,
    /// Deliver again after a delay (after `max_retries` the queue dead-letters it; the cron
    /// still repairs its pages from the outbox).
    Retry,
}

/// A queue message: a change to publish, one step of an admin rebuild, or the purger's
/// wake-up.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Incoming {
    Change(ChangeMessage),
    Rebuild(RebuildMessage),
    Purge { purge: String },
}

/// A batch after its pages were published, before the edge is purged ([`purge_after`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumed {
    /// What to do with each message, so far.
    pub deliveries: Vec<Delivery>,
    /// The purger's wake-ups, acknowledged once a purge run succeeds.
    pub wakes: Vec<usize>,
    /// Whether the batch may have owed purges.
    pub owes: bool,
}

/// Handles one queue batch: publishes all its changes at once, then runs its rebuild steps,
/// then purges what they owe; answers what to do with each message, in order.
pub async fn consume(platform: &impl Platform, bodies: &[Value]) -> Vec<Delivery> {
    let consumed = consume_pages(platform, bodies).await;
    purge_after(platform, consumed).await
}

/// [`consume`] up to the purge: the publisher Worker renders and stores a batch's pages
/// (the request Worker, which consumes the queue, hands it the batch). The purge stays with
/// the request Worker: the edge cache (Workers Caching) is the Worker's own, and only it can
/// purge it.
pub async fn consume_pages(platform: &impl Platform, bodies: &[Value]) -> Consumed {
    let mut deliveries = vec![Delivery::Retry; bodies.len()];
    let mut changes = Vec::new();
    let mut change_at = Vec::new();
    let mut rebuilds = Vec::new();
    let mut wakes = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        match serde_json::from_value::<Incoming>(body.clone()) {
            Ok(Incoming::Change(change)) => {
                changes.push(change);
                change_at.push(i);
            }
            Ok(Incoming::Rebuild(step)) => rebuilds.push((i, step)),
            Ok(Incoming::Purge { purge }) if purge == purge::WAKE => wakes.push(i),
            Ok(Incoming::Purge { .. }) => {
                platform.log(Level::Error, json!({"event": "message_unreadable", "error": "unknown purge message"}));
            }
            // A poison message: retrying it sends it to the dead-letter queue in the end.
            Err(e) => platform.log(Level::Error, json!({"event": "message_unreadable", "error": e.to_string()})),
        }
    }
    if !changes.is_empty() {
        let start = platform.now().ms;
        match publish(platform, &changes).await {
            Ok(done) => {
                change_at.iter().for_each(|i| deliveries[*i] = Delivery::Ack);
                platform.log(
                    Level::Info,
                    json!({"event": "publish", "changes": done.changes, "pages": done.pages,
                        "objects_written": done.objects_written, "objects_deleted": done.objects_deleted,
                        "tags": done.tags.len(), "duration_ms": platform.now().ms.saturating_sub(start)}),
                );
            }
            Err(e) => platform.log(Level::Error, json!({"event": "publish_failed", "error": e.to_string()})),
        }
    }
    let owes = !changes.is_empty() || !rebuilds.is_empty() || !wakes.is_empty();
    for (i, step) in rebuilds {
        match rebuild::step(platform, &step).await {
            Ok(()) => {
                deliveries[i] = Delivery::Ack;
                platform.log(
                    Level::Info,
                    json!({"event": "rebuild_step", "rebuild_id": step.rebuild_id, "step": step.step}),
                );
            }
            Err(e) => platform.log(
                Level::Error,
                json!({"event": "rebuild_step_failed", "rebuild_id": step.rebuild_id, "error": e.to_string()}),
            ),
        }
    }
    Consumed { deliveries, wakes, owes }
}

/// The end of [`consume`]: purges what the batch owed (and what earlier runs left). The pages
/// are stored and their tags recorded; a failure here loses nothing (the tags stay owed,
/// retried by a wake-up).
pub async fn purge_after(platform: &impl Platform, consumed: Consumed) -> Vec<Delivery> {
    let Consumed { mut deliveries, wakes, owes } = consumed;
    if owes {
        match purge::run(platform).await {
            Ok(_) => wakes.iter().for_each(|i| deliveries[*i] = Delivery::Ack),
            Err(e) => platform.log(Level::Error, json!({"event": "purge_run_failed", "error": e.to_string()})),
        }
    }
    deliveries
}

/// Publishes the pages a set of changes touched, then clears their outbox rows.
pub async fn publish(platform: &impl Platform, changes: &[ChangeMessage]) -> ApiResult<Published> {
    let model = SqlReadModel(platform.db());
    let targets: BTreeSet<Target> = changes.iter().flat_map(|m| pages_touched(&m.change)).collect();
    let mut keys = BTreeSet::new();
    for target in &targets {
        keys.extend(gather::resolve(&model, target).await?);
    }
    let mut done = publish_keys(platform, keys).await?;
    done.changes = changes.len();
    let ids: Vec<String> = changes.iter().map(|m| m.outbox_id.clone()).collect();
    let now = platform.now().ms;
    platform
        .db()
        .batch(vec![outbox::clear(&ids), purge::owe(&done.tags, now), health::mark(health::LAST_PUBLISH, now)])
        .await?;
    Ok(done)
}

/// Renders the given pages from the data and writes them to the page store (deleting the
/// objects of pages that no longer exist), a few at a time (`Config::pages_in_flight`): the pages are distinct, so no two
/// of them write the same object, and the order they finish in does not matter.
pub async fn publish_keys(platform: &impl Platform, keys: impl IntoIterator<Item = PageKey>) -> ApiResult<Published> {
    publish_keys_from(platform, &Prefetched::none(platform.db()), keys).await
}

/// [`publish_keys`], reading the pages' data from `model`. (One read model type for every
/// publish and the page route: each type would compile the whole renderer again into the
/// wasm, about 14 KB gzipped.)
pub async fn publish_keys_from<P: Platform>(
    platform: &P,
    model: &Prefetched<'_, P::Db>,
    keys: impl IntoIterator<Item = PageKey>,
) -> ApiResult<Published> {
    let outcomes: Vec<ApiResult<Published>> = stream::iter(keys)
        .map(|key| publish_key(platform, model, key))
        .buffer_unordered(platform.config().pages_in_flight)
        .collect()
        .await;
    let mut done = Published::default();
    for outcome in outcomes {
        let one = outcome?;
        done.pages += one.pages;
        done.objects_written += one.objects_written;
        done.objects_deleted += one.objects_deleted;
        done.tags.extend(one.tags);
    }
    Ok(done)
}

/// Renders one page and writes (or deletes) its objects.
async fn publish_key<P: Platform>(platform: &P, model: &Prefetched<'_, P::Db>, key: PageKey) -> ApiResult<Published> {
    let pages = render(&platform.config().site, &gather::page_data(model, &key).await?)?;
    let mut done = Published { pages: 1, tags: cache_tags(&key), ..Published::default() };
    if pages.is_empty() {
        for object in object_keys_of(&key) {
            platform.pages().delete(&object).await?;
            done.objects_deleted += 1;
        }
        return Ok(done);
    }
    for page in pages {
        platform.pages().put(&page.key, page.content_type, page.body).await?;
        done.objects_written += 1;
    }
    Ok(done)
}
