// Every kind of page held to two outside checkers (e2e/browser/page-kinds.mjs lists them):
// axe-core in headless Chromium with JavaScript on (no violation of impact serious or
// critical), and the Nu HTML checker on the HTML the server sent (no error). The pages as
// sent are kept in target/html-check/.
//
//   make worker-bundle && node --test e2e/browser/accessibility.test.mjs

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { axeViolations, nuErrors } from "./checkers.mjs";
import { Api, FRESHNESS_MS, becomeVisitor, launchBrowser } from "./helpers.mjs";
import { PAGE_KINDS, seedSite } from "./page-kinds.mjs";
import { ROOT, startServer } from "./server.mjs";

const SAVED = path.join(ROOT, "target/html-check");

let server;
let browser;
/** name -> { status, file, violations } for every kind of page, filled by `before`. */
const checked = new Map();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const site = await seedSite(new Api(server.url));
  rmSync(SAVED, { recursive: true, force: true });
  mkdirSync(SAVED, { recursive: true });
  for (const kind of PAGE_KINDS) {
    // The site's CSP refuses the injected axe script: bypassed here, and only here.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    try {
      if (kind.asAuthor) await becomeVisitor(context, server.url, site.author);
      const page = await context.newPage();
      page.setDefaultTimeout(FRESHNESS_MS);
      const response = await kind.open(page, server.url, site);
      await page.waitForLoadState("load");
      const file = path.join(SAVED, `${kind.name}.html`);
      writeFileSync(file, await response.body());
      checked.set(kind.name, { status: response.status(), file, violations: await axeViolations(page) });
    } finally {
      await context.close();
    }
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("axe-core", () => {
  for (const kind of PAGE_KINDS) {
    test(`the ${kind.name} page has no serious or critical violations`, () => {
      const page = checked.get(kind.name);
      assert.ok(page, `the ${kind.name} page was checked`);
      assert.deepEqual(page.violations, []);
    });
  }

  test("it does catch a violation (the vote buttons' old markup)", async () => {
    const page = await browser.newPage();
    try {
      await page.setContent('<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1>' +
        '<button aria-label="Up-vote (5)"><span aria-hidden="true">▲</span> <span>5</span></button></main></body></html>');
      const violations = await axeViolations(page);
      assert.ok(violations.some((v) => v.startsWith("label-content-name-mismatch (serious)")), violations.join("; "));
    } finally {
      await page.close();
    }
  });

  test("the pages are the ones asked for", () => {
    const statuses = Object.fromEntries([...checked].map(([name, page]) => [name, page.status]));
    const expected = Object.fromEntries(PAGE_KINDS.map((k) => [k.name, 200]));
    Object.assign(expected, { "not-found": 404, "form-error": 422, "search-refused": 422 });
    assert.deepEqual(statuses, expected);
  });
});

describe("the Nu HTML checker", () => {
  test("every kind of page is valid HTML", async () => {
    const files = PAGE_KINDS.map((k) => checked.get(k.name)?.file).filter(Boolean);
    assert.equal(files.length, PAGE_KINDS.length, "every page was saved");
    assert.deepEqual(await nuErrors(files), []);
  });

  test("it does catch invalid HTML", async () => {
    mkdirSync(path.join(SAVED, "probe"), { recursive: true });
    const file = path.join(SAVED, "probe", "invalid.html");
    writeFileSync(file, '<!doctype html><html lang="en"><head><title>t</title></head><body><p>open<div></p></body></html>');
    const errors = await nuErrors([file]);
    assert.ok(errors.some((e) => /No .p. element in scope/.test(e)), `caught: ${errors.join("; ")}`);
  });
});
