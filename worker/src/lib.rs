//! crowdfund's command side: a Cloudflare Worker that validates writes, commits them to D1
//! with an outbox row, sends the change to a queue, and (as that queue's consumer) publishes
//! the pages the change touched to R2. It never renders HTML itself: it calls `generator`.
//!
//! The pure parts (input rules, errors, vote arithmetic, voter signatures) build natively so
//! `cargo test` runs them; the rest is wasm32-only glue.

pub mod cors;
pub mod error;
pub mod forms;
pub mod input;
pub mod sender;
pub mod voter;
pub mod votes;

#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod db;
#[cfg(target_arch = "wasm32")]
mod export;
#[cfg(target_arch = "wasm32")]
mod import;
#[cfg(target_arch = "wasm32")]
mod limits;
#[cfg(target_arch = "wasm32")]
mod outbox;
#[cfg(target_arch = "wasm32")]
mod page_data;
#[cfg(target_arch = "wasm32")]
mod projects;
#[cfg(target_arch = "wasm32")]
mod publish;
#[cfg(target_arch = "wasm32")]
mod rebuild;
#[cfg(target_arch = "wasm32")]
mod routes;
#[cfg(target_arch = "wasm32")]
mod serve;
#[cfg(target_arch = "wasm32")]
mod threads;

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::{event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent};

    use crate::config::{Config, CHANGES, DB, PAGES};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        Ok(crate::routes::handle(req, env, ctx).await)
    }

    #[event(queue)]
    async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
        let config = Config::from_env(&env);
        let db = env.d1(DB)?;
        let bucket = env.bucket(PAGES)?;
        let queue = env.queue(CHANGES)?;
        crate::publish::consume(batch, &db, &bucket, &queue, &config.site).await;
        Ok(())
    }

    #[event(scheduled)]
    async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        let (Ok(db), Ok(queue)) = (env.d1(DB), env.queue(CHANGES)) else {
            worker::console_error!("scheduled: bindings missing");
            return;
        };
        let older_than = Config::from_env(&env).redrive_after_ms;
        match crate::outbox::redrive(&db, &queue, worker::Date::now().as_millis(), older_than).await {
            Ok(n) => worker::console_log!("{}", serde_json::json!({"event": "redrive", "messages": n})),
            Err(e) => {
                worker::console_error!("{}", serde_json::json!({"event": "redrive_failed", "error": e.to_string()}))
            }
        }
    }
}
