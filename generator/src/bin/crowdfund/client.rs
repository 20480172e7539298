//! A small HTTP client for a running instance: the public write API and the published pages.

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A running crowdfund instance.
pub struct Instance {
    pub base: String,
    pub http: reqwest::Client,
}

impl Instance {
    /// Connects to `base` (e.g. `http://127.0.0.1:8787`).
    pub fn new(base: &str) -> Result<Self> {
        // Idle connections go before the edge's idle timeout could close them under a request.
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .pool_idle_timeout(std::time::Duration::from_secs(3))
            .build()?;
        Ok(Instance { base: base.trim_end_matches('/').to_owned(), http })
    }

    /// GETs a path and parses its JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(&url).send().await.with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        Ok(response.json().await?)
    }

    /// GETs a published page: its bytes and whether it is published (the Worker says
    /// `x-crowdfund-page: stored` or `deployment`, and `rendered` for a stand-in rendered on a
    /// miss); `None` on 404.
    pub async fn get_page(&self, path: &str) -> Result<Option<(Vec<u8>, bool)>> {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(&url).send().await.with_context(|| format!("GET {url}"))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        let stored = response.headers().get("x-crowdfund-page").is_none_or(|v| v.as_bytes() != b"rendered");
        Ok(Some((response.bytes().await?.to_vec(), stored)))
    }

    /// Sends a JSON write and returns its JSON answer; a non-2xx answer is an error that
    /// carries the API's error body.
    pub async fn write(&self, method: reqwest::Method, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .request(method.clone(), &url)
            .json(body)
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {url}: {status}: {answer}");
        }
        Ok(answer)
    }
}

/// Returns the admin token from the flag or `$CROWDFUND_ADMIN_TOKEN`.
pub fn admin_token(flag: Option<&str>) -> Result<String> {
    match flag.map(str::to_owned).or_else(|| std::env::var("CROWDFUND_ADMIN_TOKEN").ok()) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => bail!("an admin token is needed: --admin-token or CROWDFUND_ADMIN_TOKEN"),
    }
}

/// A running instance read through its admin export (`--from URL [--admin-token T]`).
#[derive(clap::Args)]
pub struct AdminSource {
    /// Base URL of the running instance.
    #[arg(long)]
    pub from: String,
    /// Admin bearer token (default: $CROWDFUND_ADMIN_TOKEN).
    #[arg(long)]
    pub admin_token: Option<String>,
}

/// A running instance written to through its admin routes (`--to URL [--admin-token T]`).
#[derive(clap::Args)]
pub struct AdminTarget {
    /// Base URL of the running instance.
    #[arg(long)]
    pub to: String,
    /// Admin bearer token (default: $CROWDFUND_ADMIN_TOKEN).
    #[arg(long)]
    pub admin_token: Option<String>,
}

impl AdminTarget {
    /// Connects; returns the instance and the admin token.
    pub fn connect(&self) -> Result<(Instance, String)> {
        Ok((Instance::new(&self.to)?, admin_token(self.admin_token.as_deref())?))
    }
}

/// How many projects an instance holds (its health's count), for a progress total.
pub async fn project_count(instance: &Instance) -> Result<u64> {
    let health: serde_json::Value = instance.get_json("/api/v1/health").await?;
    Ok(health["projects"].as_u64().unwrap_or(0))
}

impl AdminSource {
    /// Connects and fetches the whole read model: the instance, its site settings and data.
    pub async fn export(&self) -> Result<(Instance, generator::SiteConfig, generator::model::Snapshot)> {
        let instance = Instance::new(&self.from)?;
        let (site, snapshot) = export(&instance, &admin_token(self.admin_token.as_deref())?).await?;
        Ok((instance, site, snapshot))
    }
}

/// Fetches the whole read model through the admin export, page by page (each retried through
/// rate limits and transient failures), with progress.
pub async fn export(instance: &Instance, token: &str) -> Result<(generator::SiteConfig, generator::model::Snapshot)> {
    let mut progress = crate::progress::Progress::new("export", "projects", project_count(instance).await?);
    let mut snapshot = generator::model::Snapshot::default();
    let site = export_after(instance, token, 0, |page| {
        progress.inc(page.len() as u64);
        snapshot.projects.extend(page);
        Ok(())
    })
    .await?;
    progress.finish();
    Ok((site, snapshot))
}

/// Reads the admin export from the project after `after` to the end, handing each page's
/// projects to `take`; returns the instance's site settings.
pub async fn export_after(
    instance: &Instance,
    token: &str,
    mut after: i64,
    mut take: impl FnMut(Vec<generator::model::Project>) -> Result<()>,
) -> Result<generator::SiteConfig> {
    #[derive(serde::Deserialize)]
    struct Page {
        site: generator::SiteConfig,
        projects: Vec<generator::model::Project>,
        next_after: Option<i64>,
    }
    loop {
        let url = format!("{}/api/v1/export?after={after}", instance.base);
        let response = crate::retry::send(&format!("GET {url}"), || instance.http.get(&url).bearer_auth(token)).await?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        let page: Page = response.json().await.with_context(|| format!("parsing {url}"))?;
        take(page.projects)?;
        match page.next_after {
            Some(next) => after = next,
            None => return Ok(page.site),
        }
    }
}
