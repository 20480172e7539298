// The pages themselves in a real browser: no console errors or CSP violations (with and
// without JavaScript), keyboard access with a visible focus ring, no horizontal scrolling on a
// phone, and screenshots at phone and desktop widths in test-artifacts/screenshots/.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Api, FRESHNESS_MS, launchBrowser, screenshot, seedProjects, watchProblems } from "./helpers.mjs";
import { startServer } from "./server.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let server;
let browser;
let detail; // { id, json } of the richest seeded project

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const api = new Api(server.url);
  // The `make dev` seed projects, plus a reply and some votes on the one with the most threads.
  const projects = [];
  for (const project of seedProjects()) projects.push(await api.project(project));
  detail = projects.find((p) => /Solar/.test(p.json.project_name)) ?? projects[0];
  const [first, second] = detail.json.threads;
  await api.threads(detail.id, [{ parent_id: first.thread_id, message: "Could the **library** host the battery?" }]);
  await api.vote(first.thread_id, "up");
  await api.vote(first.thread_id, "up");
  await api.vote(second.thread_id, "down");
  const threads = detail.json.threads.length + 1;
  const byId = (j, id) => j.threads.find((t) => t.thread_id === id);
  detail.json = await api.published(`/api/v1/projects/${detail.id}.json`, (j) =>
    j.threads.length === threads && byId(j, first.thread_id).up_vote === 2 && byId(j, second.thread_id).down_vote === 1);
  await api.published("/api/v1/projects.json", (j) => j.total === projects.length);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens `path` in a fresh context; resolves to { page, problems, close }. */
async function open(path, { js = true, viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(FRESHNESS_MS);
  const problems = watchProblems(page);
  await page.goto(server.url + path, { waitUntil: "load" });
  return { page, problems, close: () => context.close() };
}

for (const js of [true, false]) {
  describe(js ? "with JavaScript" : "without JavaScript", () => {
    for (const [name, path] of [["front", "/"], ["detail", () => `/projects/${detail.id}/`]]) {
      test(`the ${name} page has no console errors or CSP violations`, async () => {
        const { page, problems, close } = await open(typeof path === "function" ? path() : path, { js });
        try {
          // Use it a little: open every disclosure, focus a field, and wait for app.js to settle.
          await page.locator("details").evaluateAll((all) => all.forEach((d) => (d.open = true)));
          await page.locator("textarea").first().focus();
          if (js) await page.waitForFunction(() => document.querySelector("time[title]") !== null);
          assert.deepEqual(problems, []);
        } finally {
          await close();
        }
      });
    }
  });
}

describe("layout and keyboard", () => {
  test("screenshots at phone and desktop widths", async () => {
    for (const [size, viewport] of [["phone", PHONE], ["desktop", DESKTOP]]) {
      for (const [name, path] of [["front", "/"], ["detail", `/projects/${detail.id}/`]]) {
        const { page, problems, close } = await open(path, { viewport });
        try {
          await page.waitForFunction(() => document.querySelector("time[title]") !== null);
          await screenshot(page, `${name}-${size}`);
          // Nothing wider than the screen: no sideways scrolling on a phone.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${name} at ${size}: ${overflow}px wider than the viewport`);
          assert.deepEqual(problems, []);
        } finally {
          await close();
        }
      }
    }
  });

  test("the keyboard reaches the skip link first, and focus is always visible", async () => {
    const { page, close } = await open(`/projects/${detail.id}/`);
    try {
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
      const outline = () =>
        page.evaluate(() => {
          const style = getComputedStyle(document.activeElement);
          return { tag: document.activeElement.tagName, style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
        });
      const seen = new Set();
      // Every control along the way, to the end of the page, shows a focus ring at least 2 px wide.
      for (let i = 0; i < 200; i++) {
        const ring = await outline();
        if (ring.tag === "BODY") break; // past the last control
        assert.ok(ring.style !== "none" && ring.width >= 2, `no focus ring on ${ring.tag} after ${i} tabs: ${JSON.stringify(ring)}`);
        seen.add(ring.tag);
        await page.keyboard.press("Tab");
      }
      for (const tag of ["A", "SUMMARY", "BUTTON", "SELECT", "TEXTAREA"]) assert.ok(seen.has(tag), `reached a ${tag} (${[...seen]})`);

      // The skip link lands on the content.
      await page.keyboard.press("Shift+Tab");
      await page.goto(`${server.url}/projects/${detail.id}/`);
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      assert.ok(page.url().endsWith("#main"));
    } finally {
      await close();
    }
  });

  test("every form control has a label", async () => {
    for (const path of ["/", `/projects/${detail.id}/`]) {
      const { page, close } = await open(path, { js: false });
      try {
        const unlabelled = await page.evaluate(() =>
          [...document.querySelectorAll("input:not([type=hidden]), textarea, select, button")]
            .filter((c) => !(c.labels?.length || c.getAttribute("aria-label") || c.textContent.trim()))
            .map((c) => c.outerHTML));
        assert.deepEqual(unlabelled, [], path);
        const ids = await page.evaluate(() => [...document.querySelectorAll("[id]")].map((e) => e.id));
        assert.equal(new Set(ids).size, ids.length, `${path}: ids are unique`);
      } finally {
        await close();
      }
    }
  });
});
