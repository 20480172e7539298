// Shared by the browser tests: the browser, polling, and writes through the JSON API to set
// up data (the flows under test go through the pages' forms).

import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

import { ROOT } from "./server.mjs";

/** How long a page may take to show a write before a test fails (as in e2e/src/lib.rs). */
export const FRESHNESS_MS = 30_000;

export const SCREENSHOTS = path.join(ROOT, "test-artifacts/screenshots");

/** Debian's chromium, headless (`npx playwright install` does not work here). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Retries `fn` until it resolves without throwing, or throws its last error at the deadline.
 * Between tries it waits `interval` ms: a poll, not a guess at how long something takes.
 */
export async function eventually(fn, { timeout = FRESHNESS_MS, interval = 100, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) {
        error.message = `${what} did not hold within ${timeout} ms: ${error.message}`;
        throw error;
      }
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Throws unless `cond`; a tiny assertion with a message for `eventually`. */
export function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** Records console errors, page errors and CSP violations of a page. */
export function watchProblems(page) {
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy/i.test(message.text())) {
      problems.push(`console ${message.type()}: ${message.text()} (${message.location().url ?? ""})`);
    }
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A navigation the page itself replaces (reload after publishing) aborts requests; those
    // are not problems.
    if (request.failure()?.errorText !== "net::ERR_ABORTED") {
      problems.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
  return problems;
}

/** Records the dialogs (alert, confirm, prompt) a page opens, dismissing each. */
export function watchDialogs(page) {
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}(${JSON.stringify(dialog.message())})`);
    dialog.dismiss().catch(() => {});
  });
  return dialogs;
}

/** Saves a screenshot (the full page unless told) under test-artifacts/screenshots/. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** A small client of the write API for test setup. */
export class Api {
  constructor(base) {
    this.base = base;
  }

  /** A client that writes as `visitor` (from `visitor()`): its bearer token on every write. */
  as(visitor) {
    const api = new Api(this.base);
    api.token = visitor.token;
    return api;
  }

  async send(method, pathname, body, headers = {}) {
    const auth = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const response = await fetch(this.base + pathname, {
      method,
      headers: { "content-type": "application/json", accept: "application/json", ...auth, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: response.status, json, text, headers: response.headers };
  }

  /** A new visitor identity: its token and author key. */
  async visitor() {
    const answer = await this.send("POST", "/api/v1/visitors");
    check(answer.status === 201, `visitors: ${answer.status} ${answer.text}`);
    return { token: answer.json.visitor_token, author: answer.json.author };
  }

  /** Proposes a project; resolves to its id. */
  async propose(project) {
    const answer = await this.send("POST", "/api/v1/projects", project);
    check(answer.status === 201, `propose: ${answer.status} ${answer.text}`);
    return answer.json.project_id;
  }

  /** Adds threads to a project; resolves to their ids. */
  async threads(projectId, threads) {
    const answer = await this.send("POST", `/api/v1/projects/${projectId}/threads`, { threads });
    check(answer.status === 201, `threads: ${answer.status} ${answer.text}`);
    return answer.json.threads.map((t) => t.thread_id);
  }

  /** Votes as a new voter (a bearer token instead of the browser's cookie). */
  async vote(threadId, direction) {
    const voter = await this.send("POST", "/api/v1/voters");
    check(voter.status === 201, `voters: ${voter.status} ${voter.text}`);
    const answer = await this.send("POST", `/api/v1/threads/${threadId}/vote`, { direction }, {
      authorization: `Bearer ${voter.json.voter_token}`,
    });
    check(answer.status === 200, `vote: ${answer.status} ${answer.text}`);
  }

  /** Reads a page's JSON; `stored` says whether it is the published object. */
  async page(pathname) {
    const response = await fetch(this.base + pathname, { headers: { accept: "application/json" } });
    const stored = response.headers.get("x-crowdfund-page") === "stored";
    return { status: response.status, stored, json: response.ok ? await response.json() : null };
  }

  /** Waits until the published JSON at `pathname` satisfies `accept(json)`. */
  async published(pathname, accept = () => true) {
    return eventually(
      async () => {
        const page = await this.page(pathname);
        check(page.status === 200 && page.stored && accept(page.json), `${pathname}: ${page.status} stored=${page.stored}`);
        return page.json;
      },
      { what: `publishing ${pathname}` },
    );
  }

  /** Proposes a project with threads, and waits until its page is published with all of them. */
  async project({ comments = [], ...project }) {
    const id = await this.propose(project);
    const ids = comments.length ? await this.threads(id, comments.map((message) => ({ thread_type: "COMMENT", message }))) : [];
    const expected = (project.problems?.length ?? 0) + (project.solutions?.length ?? 0) + ids.length;
    const json = await this.published(`/api/v1/projects/${id}.json`, (j) => j.threads.length === expected);
    return { id, json };
  }
}

/** Gives a browser context a visitor's identity: the cookies the Worker would have set. */
export async function becomeVisitor(context, url, visitor) {
  await context.addCookies([
    { name: "voter", value: visitor.token, url, httpOnly: true, sameSite: "Lax" },
    { name: "author", value: visitor.author, url, sameSite: "Lax" },
  ]);
}

/** The seed projects of `make dev` (data/seed.json). */
export function seedProjects() {
  return JSON.parse(readFileSync(path.join(ROOT, "data/seed.json"), "utf8")).projects;
}

/** A name no other test uses. */
let counter = 0;
export function unique(prefix) {
  counter += 1;
  return `${prefix} ${process.pid}-${Date.now() % 1_000_000}-${counter}`;
}
