//! Batching that adapts to load. The queue has no batch window (`max_batch_timeout = 0`) and
//! runs one publish at a time (`max_concurrency = 1`), so what arrives while a publish runs is
//! the next batch: a lone write is published at once. Under load that alone would fold only
//! what arrives during one render (a render every ~100 ms folds a tenth of a second's writes),
//! so after a publish the consumer pauses before it returns, in proportion to the changes it
//! just folded: a busy queue's next batch grows, a quiet one's does not wait.
//!
//! With `k` changes folded, the pause is [`PAUSE_PER_CHANGE_MS`] × `k`, at most
//! [`MAX_PAUSE_MS`], and none when the batch was full (more are already waiting: pausing
//! would only build a backlog). At `r` writes/s and a render of `R` s a batch settles where
//! `k = r (R + pause(k))`: below `1 / PAUSE_PER_CHANGE` (50 writes/s) that is a few changes
//! and a pause of tens of milliseconds; above it the pause reaches its cap and a batch folds
//! `r (R + 1 s)` changes (up to the batch size), as the old fixed 1 s window did, without
//! that window's second of delay at light load.

/// The most changes the queue delivers in one batch (`max_batch_size` in wrangler.toml).
pub const MAX_BATCH: usize = 100;
/// The pause per change just published.
pub const PAUSE_PER_CHANGE_MS: u64 = 20;
/// The longest pause: what a change may wait at most, under load, before its publish starts.
pub const MAX_PAUSE_MS: u64 = 1000;

/// How long the consumer waits after publishing a batch of `changes` before it returns.
pub fn pause_after(changes: usize) -> u64 {
    if changes >= MAX_BATCH {
        return 0;
    }
    (changes as u64 * PAUSE_PER_CHANGE_MS).min(MAX_PAUSE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_change_hardly_waits_and_a_busy_queue_waits_up_to_the_cap() {
        assert_eq!(pause_after(0), 0);
        assert_eq!(pause_after(1), 20);
        assert_eq!(pause_after(10), 200);
        assert_eq!(pause_after(50), 1000);
        assert_eq!(pause_after(99), 1000);
    }

    #[test]
    fn a_full_batch_does_not_wait_for_the_backlog_behind_it() {
        assert_eq!(pause_after(MAX_BATCH), 0);
        assert_eq!(pause_after(MAX_BATCH + 5), 0);
    }

    /// Iterates `k = r (R + pause(k))` from one change: the batch size a steady load settles
    /// at (capped by the batch size).
    fn settles_at(writes_per_second: f64, render_seconds: f64) -> f64 {
        let mut k = 1.0_f64;
        for _ in 0..200 {
            let pause = pause_after(k.round() as usize) as f64 / 1000.0;
            k = (writes_per_second * (render_seconds + pause)).clamp(1.0, MAX_BATCH as f64);
        }
        k
    }

    #[test]
    fn light_load_publishes_small_batches_and_sustained_load_folds_many() {
        // 10 writes/s, a render of 100 ms: batches of one or two, pauses of tens of ms.
        assert!(settles_at(10.0, 0.1) < 3.0, "{}", settles_at(10.0, 0.1));
        // 80 writes/s: the pause reaches its cap and a batch folds over 50 changes.
        assert!(settles_at(80.0, 0.1) >= 50.0, "{}", settles_at(80.0, 0.1));
    }

    #[test]
    fn the_batch_size_is_the_queues() {
        let wrangler = include_str!("../../wrangler.toml");
        let consumer = wrangler.split("[[queues.consumers]]").nth(1).unwrap_or_default();
        assert!(consumer.contains(&format!("max_batch_size = {MAX_BATCH}")), "{consumer}");
        assert!(consumer.contains("max_batch_timeout = 0") && consumer.contains("max_concurrency = 1"));
    }
}
