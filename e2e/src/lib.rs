//! End-to-end test harness: starts the real Worker under `wrangler dev` (real workerd, local
//! D1, queue and R2) with its cron driver, as `make dev` does (scripts/serve.sh), on free
//! loopback ports with a fresh state directory, and drives it over HTTP. The server is stopped by process group when the handle drops, whatever the
//! test's outcome. Readiness and freshness are polled until a deadline, never slept for.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

pub mod make_dev;

/// How long a page may take to show a write before a test fails.
pub const FRESHNESS_DEADLINE: Duration = Duration::from_secs(30);

/// The repository root (the e2e crate lives one level down).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `wrangler` from the work tree's node_modules, run in the repository root, non-interactive.
pub fn wrangler() -> Command {
    let root = repo_root();
    let path = format!("{}:{}", root.join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("wrangler");
    cmd.current_dir(root).env("PATH", path).env("CI", "true");
    cmd
}

/// Returns a port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A log line without the Worker's name before it (`[crowdfund-publisher] {...}`).
fn without_worker_name(line: &str) -> &str {
    match line.strip_prefix('[').and_then(|rest| rest.split_once("] ")) {
        Some((name, rest)) if !name.starts_with("wrangler") => rest,
        _ => line,
    }
}

/// A secret from `.dev.vars` (which `make` creates), e.g. `ADMIN_TOKEN`.
pub fn dev_var(name: &str) -> Result<String> {
    let text =
        std::fs::read_to_string(repo_root().join(".dev.vars")).context("reading .dev.vars (run `make .dev.vars`)")?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
        .with_context(|| format!("{name} missing from .dev.vars"))
}

/// The ports of a site: the edge visitors reach, the Worker behind it, the edge's purge
/// listener, and the Worker's inspector.
#[derive(Clone, Copy)]
struct Ports {
    edge: u16,
    worker: u16,
    purge: u16,
    inspector: u16,
}

impl Ports {
    fn free() -> Result<Self> {
        Ok(Ports { edge: free_port()?, worker: free_port()?, purge: free_port()?, inspector: free_port()? })
    }
}

/// The command that serves crowdfund as `make dev` does (scripts/serve.sh): the local edge,
/// the Worker behind it, and its cron driver.
fn serve(state: &Path, ports: Ports, options: &Options) -> Command {
    let mut cmd = Command::new(repo_root().join("scripts/serve.sh"));
    cmd.args(["--port", &ports.edge.to_string(), "--worker-port", &ports.worker.to_string()])
        .args(["--purge-port", &ports.purge.to_string(), "--inspector-port", &ports.inspector.to_string()])
        .args(["--log-level", "log"])
        .arg("--state")
        .arg(state)
        .env("CI", "true");
    for (name, value) in &options.vars {
        cmd.args(["--var", &format!("{name}:{value}")]);
    }
    match options.cron {
        Cron::Schedule => {}
        Cron::Every(seconds) => {
            cmd.args(["--cron-interval", &seconds.to_string()]);
        }
        Cron::Off => {
            cmd.arg("--no-cron");
        }
    }
    cmd
}

/// Applies the D1 migrations to a local state directory. Wrangler now and then fails to
/// start when two tests launch it at the same instant; an apply is idempotent (applied
/// migrations are recorded and skipped), so a failed attempt is retried, twice, and the last
/// one's output is in the error.
fn migrate(root: &Path, state: &Path) -> Result<()> {
    let mut last = String::new();
    for _ in 0..3 {
        let out = wrangler()
            .args(["d1", "migrations", "apply", "crowdfund", "--local", "--persist-to"])
            .arg(state)
            .current_dir(root)
            .stdin(Stdio::null())
            .output()
            .context("running wrangler d1 migrations apply")?;
        if out.status.success() {
            return Ok(());
        }
        last =
            format!("{}\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    bail!("migrations failed three times; the last attempt: {last}")
}

/// How the cron triggers fire (`crowdfund cron`, started by scripts/serve.sh as `make dev`
/// does).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Cron {
    /// As wrangler.toml says (and once at start), like `make dev`.
    #[default]
    Schedule,
    /// Every N seconds, for a test that cannot wait for the next minute.
    Every(u64),
    /// Not at all: a site whose cron is not running.
    Off,
}

/// Options for a server.
#[derive(Clone, Default)]
pub struct Options {
    /// Extra `--var NAME:VALUE` settings (e.g. test hooks).
    pub vars: Vec<(String, String)>,
    /// Reuse this state directory (restart after a kill) instead of a fresh one.
    pub state: Option<PathBuf>,
    /// Run another Worker's config (relative to the repo root) instead of crowdfund's, with
    /// `wrangler dev` alone; it gets no migrations and is ready when `/` answers (or
    /// `ready_path`).
    pub config: Option<String>,
    /// Where a bare `wrangler dev` answers once it is ready, if not `/` (crowdfund's request
    /// Worker alone answers `/` only through its publisher).
    pub ready_path: Option<String>,
    /// How the cron fires.
    pub cron: Cron,
}

/// A running site: `scripts/serve.sh` (the local edge in front of the Worker under
/// `wrangler dev`, and its cron driver), or a bare `wrangler dev` of another Worker.
/// `url` is where visitors reach it (the edge); `worker_url` the Worker behind.
pub struct Server {
    pub url: String,
    pub port: u16,
    pub worker_url: String,
    pub state: PathBuf,
    child: Option<Child>,
    _tmp: Option<TempDir>,
    log: PathBuf,
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    pub fn new(prefix: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    /// Starts a server with fresh local state and applied migrations.
    pub fn start() -> Result<Self> {
        Self::start_with(Options::default())
    }

    /// Starts a server with options.
    pub fn start_with(options: Options) -> Result<Self> {
        let (tmp, state) = match &options.state {
            Some(dir) => (None, dir.clone()),
            None => {
                let tmp = TempDir::new("crowdfund-e2e")?;
                let state = tmp.0.join("state");
                (Some(tmp), state)
            }
        };
        let root = repo_root();
        if options.config.is_none() {
            migrate(&root, &state)?;
        }
        // A port found free can be taken by another test before wrangler binds it: try again
        // with fresh ports when that is why it exited.
        let mut tmp = tmp;
        for attempt in 1..=3 {
            let ports = Ports::free()?;
            let (port, inspector) = (ports.edge, ports.inspector);
            let log = state.with_file_name(format!("wrangler-{port}.log"));
            let log_file = std::fs::File::create(&log)?;
            let mut cmd = match &options.config {
                Some(config) => {
                    let mut cmd = wrangler();
                    cmd.args(["dev", "--config", config, "--ip", "127.0.0.1", "--port", &port.to_string()])
                        .args(["--inspector-port", &inspector.to_string(), "--log-level", "log", "--persist-to"])
                        .arg(&state);
                    for (name, value) in &options.vars {
                        cmd.args(["--var", &format!("{name}:{value}")]);
                    }
                    cmd
                }
                None => serve(&state, ports, &options),
            };
            let child = cmd
                .current_dir(&root)
                .stdin(Stdio::null())
                .stdout(log_file.try_clone()?)
                .stderr(log_file)
                .process_group(0)
                .spawn()
                .context("starting wrangler dev")?;
            let mut server = Server {
                url: format!("http://127.0.0.1:{port}"),
                worker_url: match options.config {
                    Some(_) => format!("http://127.0.0.1:{port}"),
                    None => format!("http://127.0.0.1:{}", ports.worker),
                },
                port,
                state: state.clone(),
                child: Some(child),
                _tmp: tmp.take(),
                log,
            };
            let ready_path = match (&options.config, &options.ready_path) {
                (_, Some(path)) => path.as_str(),
                (Some(_), None) => "/",
                (None, None) => "/api/v1/health",
            };
            match server.wait_ready(ready_path, Duration::from_secs(120)) {
                Ok(()) => return Ok(server),
                Err(_) if attempt < 3 && server.log_text().contains("Address already in use") => {
                    server.signal("KILL");
                    tmp = server._tmp.take();
                }
                Err(e) => return Err(e),
            }
        }
        bail!("wrangler dev found no free port in three attempts")
    }

    fn wait_ready(&mut self, path: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let health = format!("{}{path}", self.url);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("wrangler dev exited with {status}:\n{}", self.log_tail());
                }
            }
            if let Ok(out) = Command::new("curl").args(["-fsS", "-m", "2", &health]).output() {
                if out.status.success() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("wrangler dev was not ready within {timeout:?}:\n{}", self.log_tail())
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The whole log, the Workers' lines without the `[worker-name] ` that `wrangler dev`
    /// puts before each when it runs two Workers (wrangler's own `[wrangler:info]` lines stay).
    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().map(without_worker_name).collect::<Vec<_>>().join("\n")
    }

    /// Polls the log until `check` accepts it or the deadline passes.
    pub fn wait_for_log(&self, deadline: Duration, check: impl Fn(&str) -> bool) -> Result<String> {
        let start = Instant::now();
        loop {
            let text = self.log_text();
            if check(&text) {
                return Ok(text);
            }
            if start.elapsed() > deadline {
                bail!("the server log did not show what was expected within {deadline:?}:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the whole process tree at once (SIGKILL), as a crash would; state stays on disk.
    pub fn kill_hard(&mut self) {
        self.signal("KILL");
    }

    fn signal(&mut self, sig: &str) {
        if let Some(mut child) = self.child.take() {
            signal_group(&mut child, sig);
        }
    }

    /// A client for this server (its own cookie jar).
    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal("TERM");
    }
}

/// Sends `sig` to a child's process group and waits (up to 10 s, then SIGKILL) for it to end.
pub fn signal_group(child: &mut Child, sig: &str) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-s", sig, "--", &group]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Stops a child's process group (SIGTERM, then SIGKILL after 10 s).
pub fn stop_group(child: &mut Child) {
    signal_group(child, "TERM");
}

/// An HTTP answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// Parses the body as JSON (`Value::Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// Whether this is a 200 page answered from the page store (published, not rendered on
    /// a miss).
    pub fn is_stored(&self) -> bool {
        self.status == 200 && self.header("x-crowdfund-page").as_deref() == Some("stored")
    }

    /// The API error code of a failure body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A small client for the Worker's HTTP interface.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client with its own cookie jar.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            // Shorter than the edge's idle timeout: a pooled connection is never reused just as
            // the edge closes it.
            .pool_idle_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Client { base: base.to_owned(), http }
    }

    /// Sends any request.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Answer> {
        let response = req.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer { status, headers, body })
    }

    /// A request builder for a path.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// Sends JSON with a method.
    pub async fn json(&self, method: reqwest::Method, path: &str, body: &Value) -> Result<Answer> {
        self.send(self.request(method, path).json(body)).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Answer> {
        self.json(reqwest::Method::POST, path, body).await
    }

    /// Proposes a project and returns its id (the spec's path).
    pub async fn propose(&self, body: &Value) -> Result<i64> {
        let answer = self.post("/projects/propose", body).await?;
        if answer.status != 201 {
            bail!("propose: {} {}", answer.status, answer.text());
        }
        answer.json()["project_id"].as_i64().context("no project_id")
    }

    /// The id of a project's first thread (threads are listed newest first, so this is the
    /// newest: for a fresh proposal with one problem, that problem).
    pub async fn first_thread(&self, project_id: i64) -> Result<i64> {
        let threads = self.get(&format!("/api/v1/projects/{project_id}/threads")).await?.json();
        threads["threads"][0]["thread_id"].as_i64().with_context(|| format!("project {project_id} has no thread"))
    }

    /// Gets a voter identity (cookie) for this client.
    pub async fn become_voter(&self) -> Result<String> {
        let answer = self.post("/api/v1/voters", &Value::Null).await?;
        if answer.status != 201 {
            bail!("voters: {} {}", answer.status, answer.text());
        }
        answer.json()["voter_token"].as_str().map(str::to_owned).context("no voter_token")
    }

    /// Polls `path` until `check` accepts its answer or the deadline passes; returns the
    /// accepted answer and how long it took.
    pub async fn eventually(
        &self,
        path: &str,
        deadline: Duration,
        check: impl Fn(&Answer) -> bool,
    ) -> Result<(Answer, Duration)> {
        let start = Instant::now();
        loop {
            let answer = self.get(path).await?;
            if check(&answer) {
                return Ok((answer, start.elapsed()));
            }
            if start.elapsed() > deadline {
                bail!("{path} did not converge within {deadline:?}; last answer {}: {}", answer.status, answer.text());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix} {} {}", nanos % 1_000_000_007, N.fetch_add(1, Ordering::Relaxed))
}

/// Runs the generator CLI (`target/release/crowdfund`, built by `make cli`).
pub fn crowdfund_cli(args: &[&str]) -> Result<std::process::Output> {
    let out = crowdfund_command(args)?.output().with_context(|| "running crowdfund (make cli builds it)")?;
    Ok(out)
}

/// The `crowdfund` command with the admin token in its environment, not started.
pub fn crowdfund_command(args: &[&str]) -> Result<Command> {
    let mut cmd = Command::new(repo_root().join("target/release/crowdfund"));
    cmd.args(args).env("CROWDFUND_ADMIN_TOKEN", dev_var("ADMIN_TOKEN")?);
    Ok(cmd)
}
