//! Settings, read once from the Worker's `[vars]` and secrets (the shell passes lookups).

use generator::SiteConfig;

use crate::platform::Level;
use crate::purge::plan::Budget;
use crate::rules::moderators::{self, Moderator};

/// Outbox rows older than this are re-driven by the cron (override: var `REDRIVE_AFTER_MS`).
pub const REDRIVE_AFTER_MS: u64 = 30_000;
/// How much older than the re-drive threshold an outbox row may grow before health calls the
/// pipeline stuck: one cron period (a minute) and a publish, with room to spare.
pub const STUCK_MARGIN_MS: u64 = 90_000;
/// How long the edge keeps a page between purges (var `EDGE_TTL_SECONDS`): a bound on
/// staleness should every purge of a page be lost.
pub const EDGE_TTL_SECONDS: u64 = 3600;
/// Pages a publish renders and writes at once (var `PAGES_IN_FLIGHT`, at least 1): the
/// platform lets an invocation keep six connections open, and a page is a read and one or two
/// writes, each waiting on I/O, not on the CPU.
pub const PAGES_IN_FLIGHT: usize = 6;
/// How long a rebuild message keeps starting steps (var `REBUILD_BUDGET_MS`; 0: one step a
/// message, as before chaining).
pub const REBUILD_BUDGET_MS: u64 = 5_000;
/// Delay before a failed render batch is retried.
pub const RETRY_DELAY_SECONDS: u32 = 2;

/// Settings from `[vars]` and secrets.
#[derive(Debug, Clone)]
pub struct Config {
    pub site: SiteConfig,
    /// Origins (scheme://host:port) whose pages may write from a browser.
    pub allowed_origins: Vec<String>,
    /// Key that signs voter ids (a secret: `.dev.vars` locally, `wrangler secret put` in
    /// production).
    pub voter_secret: Vec<u8>,
    /// Bearer token of admin operations (export, import, rebuild); a secret too. Empty:
    /// disabled. It is a moderator's token too.
    pub admin_token: String,
    /// Moderators and their tokens (secret `MODERATOR_TOKENS`: `name:token,...`).
    pub moderators: Vec<Moderator>,
    /// Age after which the cron re-sends an outbox row.
    pub redrive_after_ms: u64,
    /// Age of the oldest outbox row past which health says `degraded` (var `STUCK_AFTER_MS`;
    /// default: the re-drive threshold plus [`STUCK_MARGIN_MS`]).
    pub stuck_after_ms: u64,
    /// How long the edge may keep a page (see [`EDGE_TTL_SECONDS`]).
    pub edge_ttl_seconds: u64,
    /// The purge budget (vars `PURGE_BURST`, `PURGE_PER_MINUTE`, `PURGE_MAX_WAIT_MS`,
    /// `PURGE_SETTLE_MS`); Cloudflare's Free-tier limits by default.
    pub purge_budget: Budget,
    /// The local edge's purge endpoint (var `EDGE_PURGE_URL`, set by scripts/serve.sh); unset
    /// in production, where Workers Caching takes the purges.
    pub edge_purge_url: Option<String>,
    /// Test hook: with `test_hooks`, the first N purge calls fail (var `TEST_PURGE_FAILURES`).
    pub test_purge_failures: u32,
    /// Pages a publish renders at once (see [`PAGES_IN_FLIGHT`]).
    pub pages_in_flight: usize,
    /// How long a rebuild message keeps starting steps (see [`REBUILD_BUDGET_MS`]).
    pub rebuild_budget_ms: u64,
    /// Whether the rate limits apply (var `RATE_LIMITS=off` turns them off for benchmarks).
    pub rate_limits: bool,
    /// Whether the Worker logs where each request's time went (var `TIMINGS=on`: one `timings`
    /// line per request with the time spent waiting on D1, R2, the queue and the rate
    /// limiters; for profiling, e.g. `write_bench`).
    pub timings: bool,
    /// The least important log line written (var `LOG_LEVEL`: `info`, the default, logs every
    /// write and every error; `warn` or `error` leave out the request lines, whose one
    /// `console.log` each costs a write about a third of its throughput under `wrangler dev`,
    /// and whose volume a busy site may not want to pay for).
    pub log_level: Level,
    /// Test hooks (var `TEST_HOOKS=1`, never set in production): a write carrying
    /// `x-test-drop-message: 1` skips its queue send, as if the message were lost.
    pub test_hooks: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_vars(|_| None, |_| None)
    }
}

impl Config {
    /// Whether a line of this level is written.
    pub fn logs(&self, level: Level) -> bool {
        level >= self.log_level
    }

    /// Reads the settings through `var` (plain vars) and `secret` (secrets); missing optional
    /// ones fall back to local defaults.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, secret: impl Fn(&str) -> Option<String>) -> Self {
        let site_defaults = SiteConfig::default();
        let site = SiteConfig {
            base_url: var("SITE_URL").map(|u| u.trim_end_matches('/').to_owned()).unwrap_or(site_defaults.base_url),
            site_name: var("SITE_NAME").unwrap_or(site_defaults.site_name),
        };
        let allowed_origins = var("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let redrive_after_ms = var("REDRIVE_AFTER_MS").and_then(|v| v.parse().ok()).unwrap_or(REDRIVE_AFTER_MS);
        let number = |name: &str| var(name).and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| *v >= 0.0);
        let edge_ttl_seconds = number("EDGE_TTL_SECONDS").map_or(EDGE_TTL_SECONDS, |v| v as u64);
        let defaults = Budget::default();
        let purge_budget = Budget {
            burst: number("PURGE_BURST").unwrap_or(defaults.burst),
            per_minute: number("PURGE_PER_MINUTE").unwrap_or(defaults.per_minute),
            max_wait_ms: number("PURGE_MAX_WAIT_MS").map_or(defaults.max_wait_ms, |v| v as u64),
            settle_ms: number("PURGE_SETTLE_MS").map_or(defaults.settle_ms, |v| v as u64),
            edge_ttl_ms: edge_ttl_seconds * 1000,
            ..defaults
        };
        Config {
            site,
            allowed_origins,
            voter_secret: secret("VOTER_SECRET").map(String::into_bytes).unwrap_or_default(),
            admin_token: secret("ADMIN_TOKEN").unwrap_or_default(),
            moderators: moderators::parse(&secret("MODERATOR_TOKENS").unwrap_or_default()),
            redrive_after_ms,
            stuck_after_ms: var("STUCK_AFTER_MS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(redrive_after_ms + STUCK_MARGIN_MS),
            edge_ttl_seconds,
            purge_budget,
            edge_purge_url: var("EDGE_PURGE_URL").filter(|u| !u.trim().is_empty()),
            test_purge_failures: number("TEST_PURGE_FAILURES").map_or(0, |v| v as u32),
            pages_in_flight: number("PAGES_IN_FLIGHT").map_or(PAGES_IN_FLIGHT, |v| (v as usize).max(1)),
            rebuild_budget_ms: number("REBUILD_BUDGET_MS").map_or(REBUILD_BUDGET_MS, |v| v as u64),
            rate_limits: var("RATE_LIMITS").as_deref() != Some("off"),
            timings: var("TIMINGS").as_deref() == Some("on"),
            log_level: var("LOG_LEVEL").as_deref().and_then(Level::parse).unwrap_or(Level::Info),
            test_hooks: var("TEST_HOOKS").as_deref() == Some("1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_level_leaves_out_less_important_lines() {
        let at = |value: &str| Config::from_vars(|name| (name == "LOG_LEVEL").then(|| value.into()), |_| None);
        let warn = at("WARN");
        assert!(!warn.logs(Level::Info) && warn.logs(Level::Warn) && warn.logs(Level::Error));
        let error = at("error");
        assert!(!error.logs(Level::Warn) && error.logs(Level::Error));
        assert!(at("loud").logs(Level::Info), "an unknown level logs everything");
    }

    #[test]
    fn vars_and_secrets_are_read_with_defaults() {
        let c = Config::from_vars(
            |name| match name {
                "ALLOWED_ORIGINS" => Some(" https://a.example/ , ,https://b.example".into()),
                "SITE_URL" => Some("https://crowdfund.example/".into()),
                "RATE_LIMITS" => Some("off".into()),
                "PAGES_IN_FLIGHT" => Some("0".into()),
                _ => None,
            },
            |name| (name == "ADMIN_TOKEN").then(|| "t".into()),
        );
        assert_eq!(c.allowed_origins, vec!["https://a.example", "https://b.example"]);
        assert_eq!(c.site.base_url, "https://crowdfund.example");
        assert_eq!((c.admin_token.as_str(), c.voter_secret.is_empty()), ("t", true));
        assert!(!c.rate_limits && !c.test_hooks && !c.timings);
        assert!(c.logs(Level::Info), "every line by default");
        assert_eq!(c.redrive_after_ms, REDRIVE_AFTER_MS);
        assert_eq!(c.stuck_after_ms, REDRIVE_AFTER_MS + STUCK_MARGIN_MS);
        assert_eq!((c.pages_in_flight, c.rebuild_budget_ms), (1, REBUILD_BUDGET_MS), "at least one page at once");
    }
}
