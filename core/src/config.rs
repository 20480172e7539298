//! Binding names and settings, read once per request from the Worker's environment.

use generator::SiteConfig;
use worker::Env;

/// The D1 database binding.
pub const DB: &str = "DB";
/// The producer binding of the "changes" queue.
pub const CHANGES: &str = "CHANGES";
/// The R2 bucket holding rendered pages.
pub const PAGES: &str = "PAGES";

/// Outbox rows older than this are re-driven by the cron (override: var `REDRIVE_AFTER_MS`).
pub const REDRIVE_AFTER_MS: u64 = 30_000;
/// Delay before a failed render batch is retried.
pub const RETRY_DELAY_SECONDS: u32 = 2;

/// Settings from `[vars]` and secrets.
pub struct Config {
    pub site: SiteConfig,
    /// Origins (scheme://host:port) whose pages may write from a browser.
    pub allowed_origins: Vec<String>,
    /// Key that signs voter ids (a secret: `.dev.vars` locally, `wrangler secret put` in
    /// production).
    pub voter_secret: Vec<u8>,
    /// Bearer token of admin operations (export, rebuild); a secret too. Empty: disabled.
    pub admin_token: String,
    /// Age after which the cron re-sends an outbox row.
    pub redrive_after_ms: u64,
    /// Test hooks (var `TEST_HOOKS=1`, never set in production): a write carrying
    /// `x-test-drop-message: 1` skips its queue send, as if the message were lost.
    pub test_hooks: bool,
}

impl Config {
    /// Reads the settings; missing optional ones fall back to local defaults.
    pub fn from_env(env: &Env) -> Self {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let site = SiteConfig {
            base_url: var("SITE_URL").unwrap_or_else(|| SiteConfig::default().base_url),
            site_name: var("SITE_NAME").unwrap_or_else(|| SiteConfig::default().site_name),
        };
        let allowed_origins = var("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let voter_secret = env.secret("VOTER_SECRET").map(|s| s.to_string().into_bytes()).unwrap_or_default();
        let admin_token = env.secret("ADMIN_TOKEN").map(|s| s.to_string()).unwrap_or_default();
        let redrive_after_ms = var("REDRIVE_AFTER_MS").and_then(|v| v.parse().ok()).unwrap_or(REDRIVE_AFTER_MS);
        let test_hooks = var("TEST_HOOKS").as_deref() == Some("1");
        Config { site, allowed_origins, voter_secret, admin_token, redrive_after_ms, test_hooks }
    }
}
