//! The queue consumer: folds a batch of changes into the set of pages they touch (500 votes on
//! one project are one render), re-reads D1, renders through the generator, writes the pages
//! to R2, and clears the outbox rows it covered. Idempotent: rendering again gives the same
//! bytes, so at-least-once delivery is harmless.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Bucket, D1Database, HttpMetadata, MessageBatch, MessageExt, Queue, QueueRetryOptionsBuilder};

use generator::paths::{object_keys_of, pages_touched, PageKey, Target};
use generator::{render, SiteConfig};

use crate::config::RETRY_DELAY_SECONDS;
use crate::db;
use crate::error::ApiResult;
use crate::outbox::{self, ChangeMessage};
use crate::page_data;
use crate::rebuild::{self, RebuildMessage};

/// What one publish did, for the log line.
#[derive(Debug, Default)]
pub struct Published {
    pub changes: usize,
    pub pages: usize,
    pub objects_written: usize,
    pub objects_deleted: usize,
}

/// A queue message: a change to publish, or one step of an admin rebuild.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Incoming {
    Change(ChangeMessage),
    Rebuild(RebuildMessage),
}

/// Handles one queue batch: publishes all its changes at once, then runs its rebuild steps;
/// acks what succeeded and retries the rest with a delay (after `max_retries` the queue moves
/// a message to the dead-letter queue; the cron still repairs its pages from the outbox).
pub async fn consume(batch: MessageBatch<Value>, db: &D1Database, bucket: &Bucket, queue: &Queue, site: &SiteConfig) {
    let retry = QueueRetryOptionsBuilder::new().with_delay_seconds(RETRY_DELAY_SECONDS).build();
    let mut changes = Vec::new();
    let mut change_messages = Vec::new();
    let mut rebuilds = Vec::new();
    for message in batch.iter().flatten() {
        match serde_json::from_value::<Incoming>(message.body().clone()) {
            Ok(Incoming::Change(change)) => {
                changes.push(change);
                change_messages.push(message);
            }
            Ok(Incoming::Rebuild(step)) => rebuilds.push((message, step)),
            Err(e) => {
                // A poison message: retrying it sends it to the dead-letter queue in the end.
                worker::console_error!("{}", json!({"event": "message_unreadable", "error": e.to_string()}));
                message.retry_with_options(&retry);
            }
        }
    }
    if !changes.is_empty() {
        let start = worker::Date::now().as_millis();
        match publish(db, bucket, site, &changes).await {
            Ok(done) => {
                change_messages.iter().for_each(MessageExt::ack);
                worker::console_log!(
                    "{}",
                    json!({"event": "publish", "changes": done.changes, "pages": done.pages,
                        "objects_written": done.objects_written, "objects_deleted": done.objects_deleted,
                        "duration_ms": worker::Date::now().as_millis() - start})
                );
            }
            Err(e) => {
                worker::console_error!("{}", json!({"event": "publish_failed", "error": e.to_string()}));
                change_messages.iter().for_each(|m| m.retry_with_options(&retry));
            }
        }
    }
    for (message, step) in rebuilds {
        match rebuild::step(db, bucket, queue, site, &step).await {
            Ok(()) => {
                message.ack();
                worker::console_log!(
                    "{}",
                    json!({"event": "rebuild_step", "rebuild_id": step.rebuild_id, "step": step.step})
                );
            }
            Err(e) => {
                worker::console_error!(
                    "{}",
                    json!({"event": "rebuild_step_failed", "rebuild_id": step.rebuild_id, "error": e.to_string()})
                );
                message.retry_with_options(&retry);
            }
        }
    }
}

/// Publishes the pages a set of changes touched.
pub async fn publish(
    db: &D1Database,
    bucket: &Bucket,
    site: &SiteConfig,
    changes: &[ChangeMessage],
) -> ApiResult<Published> {
    let targets: BTreeSet<Target> = changes.iter().flat_map(|m| pages_touched(&m.change)).collect();
    let mut keys = BTreeSet::new();
    for target in &targets {
        keys.extend(page_data::resolve(db, target).await?);
    }
    let mut done = publish_keys(db, bucket, site, keys).await?;
    done.changes = changes.len();
    let ids: Vec<String> = changes.iter().map(|m| m.outbox_id.clone()).collect();
    outbox::clear(db, &ids).await?;
    Ok(done)
}

/// Renders the given pages from D1 and writes them to the page store.
pub async fn publish_keys(
    db: &D1Database,
    bucket: &Bucket,
    site: &SiteConfig,
    keys: impl IntoIterator<Item = PageKey>,
) -> ApiResult<Published> {
    let mut done = Published::default();
    for key in keys {
        let data = page_data::gather(db, &key).await?;
        let pages = render(site, &data).map_err(db::internal)?;
        done.pages += 1;
        if pages.is_empty() {
            for object in object_keys_of(&key) {
                bucket.delete(object).await.map_err(db::internal)?;
                done.objects_deleted += 1;
            }
            continue;
        }
        for page in pages {
            let meta = HttpMetadata { content_type: Some(page.content_type.to_owned()), ..Default::default() };
            bucket.put(page.key, page.body).http_metadata(meta).execute().await.map_err(db::internal)?;
            done.objects_written += 1;
        }
    }
    Ok(done)
}
