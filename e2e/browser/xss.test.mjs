// An XSS corpus (e2e/browser/xss-corpus.json) written through the real write API, published by
// the real queue consumer, and opened in headless Chromium with JavaScript enabled: no script
// of a visitor's ever runs.
//
// Every payload, if it ever executed, would leave a marker: `window.__xss`, a dialog
// (alert/confirm/prompt), or `document.title === "PWNED"`. Each page is opened twice: once with
// the site's Content-Security-Policy (a CSP violation means hostile markup reached the page and
// was only stopped by the policy: that fails too), and once with the CSP bypassed, so the
// escaping itself is what is tested, not just the policy behind it. On every page the DOM must
// hold no event-handler attribute, no inline script, no javascript:/data: URL and none of the
// elements the corpus tries to smuggle in; names and taglines must read back as the exact text
// that was typed, and thread messages may only use the tags the Markdown renderer emits.
// The JSON twins must return every stored string verbatim (escaping happens on output only).
//
//   make worker-bundle && node --test --test-concurrency=1 e2e/browser/xss.test.mjs

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { Api, FRESHNESS_MS, check, eventually, launchBrowser, watchDialogs } from "./helpers.mjs";
import { startServer } from "./server.mjs";

const corpus = JSON.parse(readFileSync(new URL("./xss-corpus.json", import.meta.url), "utf8"));

/** The tag every corpus project carries, so one tag page lists all hostile names. */
const CORPUS_TAG = "xss-corpus";

/** Tags and attributes a thread message may contain (as generator/tests/xss.rs allows). */
const MESSAGE_ALLOWED = {
  a: ["href", "rel", "title"],
  blockquote: [],
  br: [],
  code: ["class"],
  del: [],
  em: [],
  h3: [],
  h4: [],
  h5: [],
  h6: [],
  hr: [],
  li: [],
  ol: ["start"],
  p: [],
  pre: [],
  strong: [],
  table: [],
  tbody: [],
  td: [],
  th: [],
  thead: [],
  tr: [],
  ul: [],
};

let server;
let browser;
let api;

/** What the run did, for the summary line and the assertions. */
const stats = {
  tried: 0,
  refused: [], // { id, status, reason }
  unexpected: [], // API answers that contradict the corpus
  pagesChecked: 0,
  visits: 0,
  executed: 0, // markers, dialogs and PWNED titles seen, over all visits
  csp: [], // CSP violations seen, over all visits
};

/** Projects as written: { id, name, tagline, tags: [...], threads: [{ message, thread_type, parent }] }. */
const projects = [];
/** Tags the API accepted (their pages are checked). */
const acceptedTags = new Set([CORPUS_TAG]);

// ---------------------------------------------------------------------------------------------
// Writing the corpus

/** Asserts a refusal matches the corpus entry's `refuse` pattern and records it. */
function recordRefusal(entry, answer) {
  stats.tried += 1;
  const reason = answer.json?.error ? `${answer.json.error.field ?? "-"}: ${answer.json.error.message}` : answer.text;
  if (answer.status !== 422 || !new RegExp(entry.refuse).test(reason)) {
    stats.unexpected.push(`${entry.id}: expected 422 /${entry.refuse}/, got ${answer.status} ${reason}`);
  } else {
    stats.refused.push({ id: entry.id, status: answer.status, reason });
  }
}

/** Checks a corpus value is what the API will store unchanged (trimmed, NFC). */
function assertStorable(entry) {
  assert.equal(entry.value, entry.value.trim(), `${entry.id}: corpus values carry no outer whitespace`);
  assert.equal(entry.value, entry.value.normalize("NFC"), `${entry.id}: corpus values are NFC`);
}

async function writeCorpus() {
  const accepted = (list) => list.filter((e) => !e.refuse);
  const names = accepted(corpus.names);
  const taglines = accepted(corpus.taglines);
  const messages = accepted(corpus.messages);
  for (const e of [...names, ...taglines, ...messages]) assertStorable(e);
  const count = Math.max(names.length, taglines.length);

  // Plan: project k gets name k and tagline k; message i goes to project i % count as a
  // problem, solution, comment or reply in turn.
  const plans = Array.from({ length: count }, (_, k) => ({
    name: names[k]?.value ?? `Plain project ${k}`,
    tagline: taglines[k]?.value ?? "A plain tagline",
    problems: [],
    solutions: [],
    comments: [],
    replies: [],
  }));
  const roles = ["problems", "solutions", "comments", "replies"];
  messages.forEach((m, i) => plans[i % count][roles[(i + Math.floor(i / count)) % roles.length]].push(m.value));

  for (const plan of plans) {
    const answer = await api.send("POST", "/api/v1/projects", {
      project_name: plan.name,
      tagline: plan.tagline,
      tags: [CORPUS_TAG],
      problems: plan.problems,
      solutions: plan.solutions,
    });
    assert.equal(answer.status, 201, `propose ${JSON.stringify(plan.name)}: ${answer.status} ${answer.text}`);
    const id = answer.json.project_id;
    const project = {
      id,
      name: plan.name,
      tagline: plan.tagline,
      tags: [CORPUS_TAG],
      threads: [
        ...plan.problems.map((message) => ({ message, thread_type: "PROBLEM", parent: null })),
        ...plan.solutions.map((message) => ({ message, thread_type: "SOLUTION", parent: null })),
      ],
    };
    // Replies need a parent in the same project: the first comment, or a plain one.
    const comments = plan.replies.length && !plan.comments.length ? ["Replies below."] : plan.comments;
    if (comments.length) {
      const ids = await api.threads(id, comments.map((message) => ({ thread_type: "COMMENT", message })));
      comments.forEach((message) => project.threads.push({ message, thread_type: "COMMENT", parent: null }));
      if (plan.replies.length) {
        await api.threads(id, plan.replies.map((message) => ({ thread_type: "COMMENT", message, parent_id: ids[0] })));
        plan.replies.forEach((message) => project.threads.push({ message, thread_type: "COMMENT", parent: ids[0] }));
      }
    }
    projects.push(project);
  }
  stats.tried += names.length + taglines.length + messages.length;

  // What the API must refuse, each on its own so the refusal names it.
  for (const entry of corpus.names.filter((e) => e.refuse)) {
    recordRefusal(entry, await api.send("POST", "/api/v1/projects", { project_name: entry.value, tagline: "A plain tagline" }));
  }
  for (const entry of corpus.taglines.filter((e) => e.refuse)) {
    recordRefusal(entry, await api.send("POST", "/api/v1/projects", { project_name: `Refused ${entry.id}`, tagline: entry.value }));
  }
  for (const entry of corpus.messages.filter((e) => e.refuse)) {
    recordRefusal(entry, await api.send("POST", `/api/v1/projects/${projects[0].id}/threads`, {
      threads: [{ thread_type: "COMMENT", message: entry.value }],
    }));
  }

  // Tags: one edit each, on the projects in turn.
  for (const [i, entry] of corpus.tags.entries()) {
    const project = projects[i % projects.length];
    const answer = await api.send("PUT", `/api/v1/projects/${project.id}/tags`, { add: [entry.value] });
    if (entry.refuse) {
      recordRefusal(entry, answer);
      continue;
    }
    stats.tried += 1;
    if (answer.status !== 200) {
      stats.unexpected.push(`${entry.id}: expected 200, got ${answer.status} ${answer.text}`);
      continue;
    }
    const tag = entry.value.normalize("NFC").toLowerCase();
    assert.ok(answer.json.tags.includes(tag), `${entry.id}: ${answer.text}`);
    project.tags = answer.json.tags;
    acceptedTags.add(tag);
  }
}

/** Waits until every corpus page is published (stored) with everything written. */
async function waitPublished() {
  const sorted = (list) => [...list].sort();
  for (const project of projects) {
    const json = await api.published(`/projects/${project.id}`, (j) =>
      j.threads.length === project.threads.length && sorted(j.tags).join() === sorted(project.tags).join());
    project.threadIds = json.threads.map((t) => t.thread_id);
  }
  const ids = projects.map((p) => p.id).sort((a, b) => a - b).join();
  const listed = (json) => json.projects.map((p) => p.project_id).sort((a, b) => a - b).join() === ids;
  await api.published("/api/v1/projects.json", (j) => j.total === projects.length && listed(j));
  await api.published("/api/v1/projects/page/1.json", listed);
  for (const tag of acceptedTags) {
    const want = projects.filter((p) => p.tags.includes(tag)).map((p) => p.id).sort((a, b) => a - b).join();
    await api.published(`/api/v1/tags/${encodeURIComponent(tag)}.json`, (j) =>
      j.projects.map((p) => p.project_id).sort((a, b) => a - b).join() === want);
  }
  await eventually(
    async () => {
      const response = await fetch(`${server.url}/feed.xml`);
      check(response.headers.get("x-crowdfund-page") === "stored", "feed not stored");
      const text = await response.text();
      check(projects.every((p) => text.includes(`/projects/${p.id}/<`)), "feed lacks projects");
    },
    { what: "publishing the feed" },
  );
}

// ---------------------------------------------------------------------------------------------
// The pages and what each must show

/** Hostile values posted as no-script forms: { name, source, selector, values, expect(page) }. */
function formCases() {
  const detail = `/projects/${projects[0].id}/`;
  const { propose, thread, reply, tags } = corpus.forms;
  return [
    {
      name: "form error: propose",
      source: "/",
      selector: 'form[data-form="propose"]',
      values: propose,
      // The return_to path is a same-site path, so it is kept (as text).
      fields: { "#propose-name": propose.project_name, "#propose-tagline": propose.tagline, "#propose-tags": propose.tags,
        "#propose-problems": propose.problems, "#propose-solutions": propose.solutions,
        'input[name="return_to"]': propose.return_to },
      error: /Project name: must not be empty/,
    },
    {
      name: "form error: thread",
      source: detail,
      selector: "#add-thread form",
      values: thread,
      fields: { "#new-thread-message": thread.message, 'input[name="return_to"]': "/" },
      error: /PROBLEM, SOLUTION or COMMENT/,
    },
    {
      name: "form error: reply",
      source: `/projects/${projects[0].id}/threads/${projects[0].threadIds[0]}/reply`,
      selector: "form.reply-form",
      values: reply,
      fields: { "#new-thread-message": reply.message },
      error: /parent_id|thread id/,
    },
    {
      name: "form error: tags",
      source: detail,
      selector: 'form[data-form="tags"]',
      values: tags,
      fields: { "#tags-add": tags.add, "#tags-remove": tags.remove, 'input[name="return_to"]': "/" },
      error: /letters, digits and '-'/,
    },
  ];
}

/** Every page to open: { name, path | form, texts: { selector: text } , cards: bool }. */
function pageList() {
  const pages = [
    { name: "front", path: "/", cards: true },
    { name: "listing 1", path: "/page/1/", cards: true },
    ...projects.map((p) => ({
      name: `detail ${p.id}`,
      path: `/projects/${p.id}/`,
      project: p,
    })),
    // Each thread's reply page quotes its (hostile) message.
    ...projects.flatMap((p) => p.threadIds.map((t) => ({ name: `reply ${p.id}/${t}`, path: `/projects/${p.id}/threads/${t}/reply` }))),
    ...[...acceptedTags].map((tag) => ({ name: `tag ${tag}`, path: `/tags/${tag}/`, cards: true, tag })),
    { name: "404 with a hostile path", path: `/projects/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E/`, status: 404 },
    ...formCases().map((form) => ({ name: form.name, form })),
  ];
  return pages;
}

/** Submits a form natively (no submit event, no browser validation: what a no-script browser sends). */
async function submitHostileForm(page, form) {
  await page.goto(server.url + form.source, { waitUntil: "load" });
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: "load" }),
    page.evaluate(({ selector, values }) => {
      const el = document.querySelector(selector);
      for (const [name, value] of Object.entries(values)) {
        let control = el.elements.namedItem(name);
        // A <select> cannot hold an arbitrary value: send a hidden field instead.
        if (control && control.tagName === "SELECT") {
          control.remove();
          control = null;
        }
        if (!control) {
          control = document.createElement("input");
          control.type = "hidden";
          control.name = name;
          el.append(control);
        }
        control.value = value;
      }
      el.submit();
    }, { selector: form.selector, values: form.values }),
  ]);
  return response;
}

/** What the page must not contain, read in the page. */
function inspectPage({ allowed }) {
  const out = {};
  out.marker = window.__xss;
  out.title = document.title;
  out.cspViolations = window.__cspViolations ?? [];
  out.briefSelector = document.querySelectorAll(
    'a[href^="javascript:" i], [onerror], [onload], [onclick], iframe, object, embed, script:not([src])',
  ).length;
  out.scripts = [...document.querySelectorAll("script")].map((s) => s.getAttribute("src"));
  out.baseURI = document.baseURI === location.href;
  const problems = [];
  const describe = (el) => el.outerHTML.slice(0, 160);
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) problems.push(`handler ${attr.name} on ${describe(el)}`);
      if (["href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "srcdoc", "srcset"].includes(attr.name.toLowerCase())) {
        let protocol;
        try {
          protocol = new URL(attr.value, document.baseURI).protocol;
        } catch {
          protocol = "unparseable";
        }
        if (!["http:", "https:", "mailto:"].includes(protocol) || attr.name.toLowerCase() === "srcdoc") {
          problems.push(`${attr.name}=${JSON.stringify(attr.value)} (${protocol}) on ${describe(el)}`);
        }
      }
      if (attr.name.toLowerCase() === "style") problems.push(`style attribute on ${describe(el)}`);
    }
  }
  const smuggled = document.querySelectorAll(
    "iframe, frame, frameset, object, embed, applet, base, meta[http-equiv], style, svg, math, noscript, " +
      // The detail page's one reply form (static/app.js copies it under a thread).
      "template:not(#reply-template), " +
      "img, video, audio, source, picture, [formaction], [srcdoc], input[type=image], " +
      'link:not([rel="stylesheet"]):not([rel="canonical"]):not([rel="alternate"])',
  );
  for (const el of smuggled) problems.push(`element ${describe(el)}`);
  // Thread messages: only the Markdown renderer's tags and attributes.
  for (const message of document.querySelectorAll(".message")) {
    for (const el of message.querySelectorAll("*")) {
      const tag = el.localName;
      if (!(tag in allowed)) {
        problems.push(`<${tag}> in a message: ${describe(el)}`);
        continue;
      }
      for (const attr of el.attributes) {
        if (!allowed[tag].includes(attr.name)) problems.push(`${attr.name} on <${tag}> in a message: ${describe(el)}`);
      }
      if (tag === "a" && el.getAttribute("rel") !== "nofollow ugc noopener") problems.push(`rel on ${describe(el)}`);
    }
  }
  out.problems = problems;
  out.jsLinks = [...document.querySelectorAll("a[href]")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href"))).length;
  return out;
}

/** Reads what a page shows of a project, to compare with what was written. */
function readShown() {
  const text = (el) => el?.textContent ?? null;
  const project = document.querySelector("article.project");
  const detail = project
    ? {
        name: text(project.querySelector("h1")),
        tagline: text(project.querySelector(".project-head .tagline")),
        tags: [...project.querySelectorAll("#tags ul.tags a")].map((a) => a.textContent),
        messages: document.querySelectorAll("article.thread .message").length,
      }
    : null;
  const cards = [...document.querySelectorAll("li.card")].map((card) => ({
    href: card.querySelector("h2 a")?.getAttribute("href"),
    name: text(card.querySelector("h2 a")),
    tagline: text(card.querySelector(".tagline")),
  }));
  return { detail, cards, h1: text(document.querySelector("h1")) };
}

/**
 * Opens one page in a fresh context, JavaScript on; `bypassCSP` turns the page's CSP off.
 * Resolves to a list of failures (empty when the page is clean).
 */
async function checkPage(target, { bypassCSP }) {
  const context = await browser.newContext({ javaScriptEnabled: true, bypassCSP, viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener(
      "securitypolicyviolation",
      (e) => window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`),
      true,
    );
  });
  const page = await context.newPage();
  page.setDefaultTimeout(FRESHNESS_MS);
  const failures = [];
  const dialogs = watchDialogs(page);
  const consoleErrors = [];
  const csp = [];
  page.on("pageerror", (error) => failures.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (/Content.Security.Policy/i.test(text)) csp.push(text);
    else if (message.type() === "error") consoleErrors.push({ text, url: message.location()?.url ?? "" });
  });
  const mode = bypassCSP ? "CSP bypassed" : "CSP enforced";
  try {
    let response;
    let expectedStatus = target.status ?? 200;
    if (target.form) {
      response = await submitHostileForm(page, target.form);
      expectedStatus = 422;
    } else {
      response = await page.goto(server.url + target.path, { waitUntil: "load" });
    }
    if (response?.status() !== expectedStatus) failures.push(`status ${response?.status()}, expected ${expectedStatus}`);
    // Let load-time handlers (autofocus, ontoggle, onerror of media) and app.js run.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));
    // Use the page a little: open every disclosure (ontoggle), focus every control (onfocus).
    await page.locator("details").evaluateAll((all) => all.forEach((d) => (d.open = true)));
    await page.evaluate(() => document.querySelectorAll("input, textarea, select, button, a[href]").forEach((el) => el.focus()));

    // Any javascript: link is clicked (there must be none): if it ran, the marker says so.
    const jsLinks = page.locator('a[href^="javascript:" i]');
    for (let i = 0; i < (await jsLinks.count()); i++) await jsLinks.nth(i).click({ timeout: 2000 }).catch(() => {});
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 20))));

    const seen = await page.evaluate(inspectPage, { allowed: MESSAGE_ALLOWED });
    const executed = (typeof seen.marker === "number" ? seen.marker : seen.marker === undefined ? 0 : 1) +
      dialogs.length + (seen.title === "PWNED" ? 1 : 0);
    stats.executed += executed;
    if (seen.marker !== undefined) failures.push(`window.__xss = ${JSON.stringify(seen.marker)}`);
    if (seen.title === "PWNED") failures.push("document.title is PWNED");
    if (dialogs.length) failures.push(`dialogs: ${dialogs.join(", ")}`);
    const violations = [...new Set([...csp, ...seen.cspViolations])];
    if (violations.length) {
      stats.csp.push(...violations.map((v) => `${target.name}: ${v}`));
      failures.push(`CSP violations (something tried to run): ${violations.join(" | ")}`);
    }
    if (seen.briefSelector !== 0) failures.push(`${seen.briefSelector} javascript: link(s), handler attribute(s), frame(s) or inline script(s)`);
    if (seen.jsLinks !== 0) failures.push(`${seen.jsLinks} javascript: links`);
    if (seen.scripts.length !== 1 || seen.scripts[0] !== "/static/app.js") failures.push(`scripts: ${JSON.stringify(seen.scripts)}`);
    if (!seen.baseURI) failures.push("the document's base URI is not its own URL");
    failures.push(...seen.problems);
    // A refused form is answered with its 4xx status, which Chromium logs as a failed load.
    const ownErrors = consoleErrors.filter((e) => !(target.form && /status of 4\d\d/.test(e.text)) &&
      !(target.status === 404 && /status of 404/.test(e.text)));
    if (ownErrors.length) failures.push(`console errors: ${ownErrors.map((e) => `${e.text} (${e.url})`).join(" | ")}`);

    failures.push(...(await expectedText(page, target)));
  } catch (error) {
    failures.push(`${error.message}`);
  } finally {
    await context.close();
  }
  stats.visits += 1;
  return failures.map((f) => `${target.name} (${mode}): ${f}`);
}

/** Names, taglines, tags and typed form values read back as exactly what was written. */
async function expectedText(page, target) {
  const failures = [];
  const same = (what, got, want) => {
    if (got !== want) failures.push(`${what}: shows ${JSON.stringify(got)}, wrote ${JSON.stringify(want)}`);
  };
  const shown = await page.evaluate(readShown);
  if (target.project) {
    const p = target.project;
    same("h1", shown.detail?.name, p.name);
    same("tagline", shown.detail?.tagline, p.tagline);
    same("tags", JSON.stringify(shown.detail?.tags), JSON.stringify([...p.tags].sort()));
    same("thread count", shown.detail?.messages, p.threads.length);
    same("title", (await page.title()).startsWith(`${p.name} · `), true);
  }
  if (target.cards) {
    const want = target.tag ? projects.filter((p) => p.tags.includes(target.tag)) : projects;
    for (const p of want) {
      const card = shown.cards.find((c) => c.href === `/projects/${p.id}/`);
      if (!card) {
        failures.push(`no card for project ${p.id}`);
        continue;
      }
      same(`card ${p.id} name`, card.name, p.name);
      same(`card ${p.id} tagline`, card.tagline, p.tagline);
    }
  }
  if (target.form) {
    for (const [selector, want] of Object.entries(target.form.fields)) {
      const control = page.locator(selector);
      if ((await control.count()) !== 1) {
        failures.push(`no single ${selector}`);
        continue;
      }
      same(selector, await control.inputValue(), want);
    }
    const summary = await page.locator(".error-summary").textContent().catch(() => "");
    if (!target.form.error.test(summary)) failures.push(`error summary ${JSON.stringify(summary)} does not match ${target.form.error}`);
    // "Back without saving" must stay on this site whatever return_to was sent.
    const back = await page.locator(".crumbs a").evaluate((a) => a.href).catch(() => null);
    if (!back || new URL(back).origin !== server.url) failures.push(`the back link leaves the site: ${back}`);
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------

const started = Date.now();
let pages = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = new Api(server.url);
  await writeCorpus();
  await waitPublished();
  pages = pageList();
  // The hostile form values are payloads too.
  stats.tried += Object.values(corpus.forms).reduce((n, form) => n + Object.keys(form).length, 0);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  const refused = stats.refused.map((r) => `${r.id} (${r.status} ${r.reason})`).join("; ");
  console.log(
    `XSS corpus: ${stats.tried} payloads tried, ${stats.refused.length} refused by the API [${refused}], ` +
      `${stats.pagesChecked} pages checked with the CSP enforced and bypassed (plus the feed and ${projects.length} JSON twins; ` +
      `${stats.visits} page loads), ${stats.csp.length} CSP violations, ` +
      `scripts executed: ${stats.executed} (must be 0), ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

describe("the write API", () => {
  test("refuses exactly the corpus entries its rules refuse, and names why", () => {
    assert.deepEqual(stats.unexpected, []);
    const expected = [...corpus.names, ...corpus.taglines, ...corpus.messages, ...corpus.tags].filter((e) => e.refuse).map((e) => e.id);
    assert.deepEqual(stats.refused.map((r) => r.id).sort(), expected.sort());
    assert.ok(stats.tried >= 30, `${stats.tried} payloads`);
  });

  test("stores hostile text verbatim: the JSON twins round-trip every string exactly", async () => {
    for (const project of projects) {
      for (const path of [`/projects/${project.id}`, `/api/v1/projects/${project.id}.json`]) {
        const response = await fetch(server.url + path, { headers: { accept: "application/json" } });
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get("content-type"), /^application\/json/, path);
        assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
        const json = JSON.parse(await response.text());
        assert.equal(json.project_name, project.name, path);
        assert.equal(json.tagline, project.tagline, path);
        assert.deepEqual([...json.tags].sort(), [...project.tags].sort(), path);
        const threads = json.threads.map((t) => ({ message: t.message, thread_type: t.thread_type, parent: t.parent_id ?? null }));
        const key = (t) => JSON.stringify([t.thread_type, t.parent === null, t.message]);
        assert.deepEqual(threads.map(key).sort(), project.threads.map(key).sort(), path);
        for (const t of json.threads.filter((t) => t.parent_id !== null && t.parent_id !== undefined)) {
          assert.ok(json.threads.some((p) => p.thread_id === t.parent_id), `${path}: reply ${t.thread_id} has its parent`);
        }
      }
    }
    // The listings' and tags' JSON carry the same strings.
    for (const path of ["/api/v1/projects.json", "/api/v1/projects/page/1.json", ...[...acceptedTags].map((t) => `/api/v1/tags/${encodeURIComponent(t)}.json`)]) {
      const json = await (await fetch(server.url + path)).json();
      for (const item of json.projects) {
        const project = projects.find((p) => p.id === item.project_id);
        assert.equal(item.project_name, project.name, path);
        assert.equal(item.tagline, project.tagline, path);
      }
    }
  });
});

describe("in Chromium with JavaScript on, no script of a visitor's runs", () => {
  for (const bypassCSP of [false, true]) {
    test(bypassCSP ? "with the CSP bypassed (the escaping alone)" : "with the site's CSP (and it never has to block anything)", async () => {
      const failures = [];
      for (const target of pages) failures.push(...(await checkPage(target, { bypassCSP })));
      stats.pagesChecked = pages.length;
      assert.deepEqual(failures, []);
    });
  }

  test("the feed is well-formed XML and carries the hostile names as text", async () => {
    const context = await browser.newContext({ javaScriptEnabled: true });
    const page = await context.newPage();
    const dialogs = watchDialogs(page);
    try {
      const response = await page.goto(`${server.url}/feed.xml`, { waitUntil: "load" });
      assert.equal(response.status(), 200);
      const feed = await page.evaluate(async () => {
        const text = await (await fetch("/feed.xml")).text();
        const doc = new DOMParser().parseFromString(text, "application/xml");
        const atom = "http://www.w3.org/2005/Atom";
        return {
          error: doc.querySelector("parsererror")?.textContent ?? null,
          foreign: [...doc.querySelectorAll("*")].filter((e) => e.namespaceURI !== atom).map((e) => e.nodeName),
          entries: [...doc.getElementsByTagNameNS(atom, "entry")].map((e) => ({
            title: e.getElementsByTagNameNS(atom, "title")[0]?.textContent,
            summary: e.getElementsByTagNameNS(atom, "summary")[0]?.textContent,
            id: e.getElementsByTagNameNS(atom, "id")[0]?.textContent,
          })),
          marker: window.__xss,
          title: document.title,
        };
      });
      stats.visits += 1;
      assert.equal(feed.error, null);
      assert.deepEqual(feed.foreign, []);
      for (const project of projects) {
        const entry = feed.entries.find((e) => e.id?.endsWith(`/projects/${project.id}/`));
        assert.ok(entry, `feed entry for ${project.id}`);
        assert.equal(entry.title, project.name);
        assert.equal(entry.summary, project.tagline);
      }
      assert.equal(feed.marker, undefined);
      assert.notEqual(feed.title, "PWNED");
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });

  test("a JSON twin opened in the browser is inert text", async () => {
    const context = await browser.newContext({ javaScriptEnabled: true, bypassCSP: true });
    const page = await context.newPage();
    const dialogs = watchDialogs(page);
    try {
      for (const project of projects) {
        await page.goto(`${server.url}/api/v1/projects/${project.id}.json`, { waitUntil: "load" });
        stats.visits += 1;
        const seen = await page.evaluate(() => ({
          type: document.contentType,
          scripts: document.querySelectorAll("script").length,
          marker: window.__xss,
          title: document.title,
        }));
        assert.equal(seen.type, "application/json");
        assert.equal(seen.scripts, 0);
        assert.equal(seen.marker, undefined);
        assert.notEqual(seen.title, "PWNED");
      }
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });
});
