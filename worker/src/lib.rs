//! crowdfund's Workers: the thin wasm shell around `crowdfund-core`. It binds the core's ports
//! to the platform (D1, R2, Queues, rate limiters, the JS clock and random source) and hands
//! each event to the core. Built twice (scripts/build-worker.sh):
//! - with `--features front`, the request Worker (wrangler.toml): a request to
//!   `routes::handle_front`, and what that hands on to the publisher through its service
//!   binding; a cron run to `cron::run`. It links no renderer.
//! - without, the publisher Worker (publisher.toml): a request (forwarded) to
//!   `routes::handle`, a queue batch to `publish::consume`.
//!
//! Everything that decides anything lives in the core and is tested natively there.

#[cfg(target_arch = "wasm32")]
mod adapters;
#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod timings;

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};
    #[cfg(feature = "front")]
    use worker::{MessageBatch, MessageExt, QueueRetryOptionsBuilder};

    #[cfg(feature = "front")]
    use crowdfund_core::config::RETRY_DELAY_SECONDS;
    #[cfg(feature = "front")]
    use crowdfund_core::publish::{Consumed, Delivery};

    use crate::adapters::WorkerPlatform;
    use crate::convert;

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
        let start = js_sys::Date::now();
        let platform = WorkerPlatform::new(&env)?;
        #[cfg(feature = "front")]
        let url = req.inner().url();
        let request = convert::request(req).await?;
        #[cfg(feature = "front")]
        let response = match crowdfund_core::routes::handle_front(&platform, &request).await {
            Some(answer) => convert::response(answer, platform.take_held_body()),
            None => env.service(crate::bindings::PUBLISHER)?.fetch_request(convert::forwarded(&url, &request)?).await,
        };
        // The publisher: a queue batch the request Worker hands on (it has no route of its own,
        // so only the service binding reaches this path), or any request it hands on.
        #[cfg(not(feature = "front"))]
        let response = if request.path == PUBLISH_PATH && request.method == crowdfund_core::http::Method::Post {
            let bodies: Vec<serde_json::Value> = serde_json::from_slice(&request.body)?;
            Response::from_json(&crowdfund_core::publish::consume_pages(&platform, &bodies).await)
        } else {
            let answer = crowdfund_core::routes::handle(&platform, &request).await;
            convert::response(answer, platform.take_held_body())
        };
        if let Some(line) = platform.timings(&format!("{} {}", request.method, request.path), start) {
            worker::console_log!("{line}");
        }
        response
    }

    /// Where the request Worker hands the publisher a queue batch (`publish::consume_pages`).
    const PUBLISH_PATH: &str = "/__crowdfund/publish";

    /// The request Worker consumes the queue: the publisher renders and stores a batch's pages,
    /// then this Worker purges its own edge cache (Workers Caching purges only the cache of the
    /// Worker that calls it).
    #[cfg(feature = "front")]
    #[event(queue)]
    async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
        let start = js_sys::Date::now();
        let platform = WorkerPlatform::new(&env)?;
        let messages: Vec<_> = batch.iter().flatten().collect();
        // The dead-letter queue's batches are stored for health and operators, then acked.
        if batch.queue().ends_with("-dlq") {
            let letters: Vec<_> = messages.iter().map(|m| (m.id(), m.body().clone())).collect();
            if crowdfund_core::dead_letters::store(&platform, &letters).await.is_ok() {
                messages.iter().for_each(MessageExt::ack);
            }
            return Ok(());
        }
        let bodies: Vec<serde_json::Value> = messages.iter().map(|m| m.body().clone()).collect();
        let deliveries = match publish_pages(&env, &bodies).await {
            Ok(consumed) => crowdfund_core::publish::purge_after(&platform, consumed).await,
            Err(e) => {
                worker::console_error!("{}", serde_json::json!({"event": "publish_failed", "error": e.to_string()}));
                vec![Delivery::Retry; bodies.len()]
            }
        };
        let retry = QueueRetryOptionsBuilder::new().with_delay_seconds(RETRY_DELAY_SECONDS).build();
        for (message, delivery) in messages.iter().zip(deliveries) {
            match delivery {
                Delivery::Ack => message.ack(),
                Delivery::Retry => message.retry_with_options(&retry),
            }
        }
        if let Some(line) = platform.timings(&format!("publish {}", messages.len()), start) {
            worker::console_log!("{line}");
        }
        // Adaptive batching (core/src/batching.rs): with one publish at a time, what arrives
        // during this pause joins the next batch; a lone change hardly waits.
        let pause = crowdfund_core::batching::pause_after(messages.len());
        if pause > 0 {
            worker::Delay::from(std::time::Duration::from_millis(pause)).await;
        }
        Ok(())
    }

    /// Hands a batch to the publisher Worker and reads back what it did.
    #[cfg(feature = "front")]
    async fn publish_pages(env: &Env, bodies: &[serde_json::Value]) -> Result<Consumed> {
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post).with_body(Some(serde_json::to_string(bodies)?.into()));
        let url = format!("https://publisher{PUBLISH_PATH}");
        let mut answer = env.service(crate::bindings::PUBLISHER)?.fetch(url, Some(init)).await?;
        if answer.status_code() != 200 {
            return Err(worker::Error::RustError(format!("the publisher answered {}", answer.status_code())));
        }
        answer.json().await
    }

    #[event(scheduled)]
    async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        match WorkerPlatform::new(&env) {
            Ok(platform) => crowdfund_core::cron::run(&platform).await,
            Err(e) => {
                worker::console_error!("{}", serde_json::json!({"event": "bindings_missing", "error": e.to_string()}))
            }
        }
    }
}
