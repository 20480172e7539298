// Starts the real Worker under `wrangler dev` for the browser tests, exactly like the Rust
// harness (e2e/src/lib.rs): a fresh local state directory with the D1 migrations applied,
// free loopback ports, its own process group, ready when GET /api/v1/health answers. It is
// stopped by process group (SIGTERM, then SIGKILL after a deadline) whatever happens: by
// `stop()`, and on process exit or a signal. Readiness is polled until a deadline, never slept for.

import { spawn } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const READY_DEADLINE_MS = 120_000;
const STOP_DEADLINE_MS = 10_000;

function toolEnv() {
  return { ...process.env, PATH: `${path.join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, CI: "true" };
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; rejects with its output if it fails. */
function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: toolEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(" ")} failed (${code ?? signal}):\n${output}`)),
    );
  });
}

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

const running = new Set();

// Last resort: whatever ends this process takes the servers with it.
process.on("exit", () => {
  for (const server of running) {
    signalGroup(server.pid, "SIGKILL");
    rmSync(server.dir, { recursive: true, force: true });
  }
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    for (const server of running) signalGroup(server.pid, "SIGKILL");
    process.exit(128 + (os.constants.signals[signal] ?? 1));
  });
}

/**
 * Starts the site (scripts/serve.sh: the local edge, `wrangler dev` and the cron driver) with fresh local state. Resolves to
 * `{ url, port, state, pid, dir, log, logTail(), stop() }` once /api/v1/health answers.
 */
export async function startServer() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "crowdfund-browser-"));
  const state = path.join(tmp, "state");
  try {
    await run("wrangler", ["d1", "migrations", "apply", "crowdfund", "--local", "--persist-to", state]);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const workerPort = await freePort();
  const purgePort = await freePort();
  const inspector = await freePort();
  const log = path.join(tmp, `wrangler-${port}.log`);
  const logFd = openSync(log, "w");
  // The site as `make dev` serves it (scripts/serve.sh): the local edge in front of the
  // Worker, and the cron driver.
  const child = spawn(
    path.join(ROOT, "scripts/serve.sh"),
    ["--port", String(port), "--worker-port", String(workerPort), "--purge-port", String(purgePort),
     "--inspector-port", String(inspector), "--state", state, "--log-level", "log"],
    { cwd: ROOT, env: toolEnv(), stdio: ["ignore", logFd, logFd], detached: true },
  );
  closeSync(logFd);
  let exited = null;
  child.on("exit", (code, signal) => (exited = code ?? signal));
  const server = {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    pid: child.pid,
    dir: tmp,
    log,
    logTail(lines = 40) {
      try {
        return readFileSync(log, "utf8").split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
    async stop() {
      if (!running.has(server)) return;
      signalGroup(server.pid, "SIGTERM");
      const deadline = Date.now() + STOP_DEADLINE_MS;
      while (groupAlive(server.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (groupAlive(server.pid)) signalGroup(server.pid, "SIGKILL");
      running.delete(server);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  running.add(server);
  child.unref();
  try {
    await waitReady(server, () => exited);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitReady(server, exitStatus) {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (exitStatus() !== null) {
      throw new Error(`wrangler dev exited with ${exitStatus()}:\n${server.logTail()}`);
    }
    try {
      const response = await fetch(`${server.url}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`wrangler dev was not ready within ${READY_DEADLINE_MS / 1000} s:\n${server.logTail()}`);
}
