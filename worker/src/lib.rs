//! crowdfund's Worker: the thin wasm shell around `crowdfund-core`. It binds the core's ports
//! to the platform (D1, R2, Queues, rate limiters, the JS clock and random source) and hands
//! each event to the core: a request to `routes::handle`, a queue batch to `publish::consume`,
//! a cron run to `cron::run`. Everything that decides anything lives in the core and is tested
//! natively there.

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
    use worker::{event, Context, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Request, Response};
    use worker::{Result, ScheduleContext, ScheduledEvent};

    use crowdfund_core::config::RETRY_DELAY_SECONDS;
    use crowdfund_core::publish::Delivery;

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
        let request = convert::request(req).await?;
        let answer = crowdfund_core::routes::handle(&platform, &request).await;
        let response = convert::response(answer, platform.take_held_body());
        if let Some(line) = platform.timings(&format!("{} {}", request.method, request.path), start) {
            worker::console_log!("{line}");
        }
        response
    }

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
        let deliveries = crowdfund_core::publish::consume(&platform, &bodies).await;
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
