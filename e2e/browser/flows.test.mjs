// The site's flows in a real browser (headless Chromium), each with JavaScript enabled (forms
// sent as JSON by static/app.js) and disabled (plain HTML form posts the Worker answers with
// a 303 back to the page, or an error page with the form filled in):
// propose a project, vote, reply to a thread, edit tags and one's own comment, and an invalid
// form.
//
//   node --test e2e/browser/        (needs `make worker-bundle` and Debian's chromium)

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Api, FRESHNESS_MS, becomeVisitor, check, eventually, launchBrowser, screenshot, unique } from "./helpers.mjs";
import { startServer } from "./server.mjs";

let server;
let browser;
let api;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  api = new Api(server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Runs `body(page)` in a fresh browser context (own cookies; a visitor's identity when given),
 * closed whatever happens.
 */
async function withPage(js, body, viewport = { width: 1280, height: 900 }, visitor = null) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport });
  if (visitor) await becomeVisitor(context, server.url, visitor);
  const page = await context.newPage();
  page.setDefaultTimeout(FRESHNESS_MS);
  try {
    return await body(page, context);
  } catch (error) {
    if (server) error.message += `\n--- page ${page.url()}\n--- server log tail:\n${server.logTail(15)}`;
    throw error;
  } finally {
    await context.close();
  }
}

/** The accessible names of a thread's vote buttons, e.g. ["Up-vote 1", "Down-vote 0"]. */
async function voteLabels(page, threadId) {
  const form = page.locator(`#thread-${threadId} form.vote`);
  const name = async (button) => /button "([^"]*)"/.exec(await form.locator(button).ariaSnapshot())?.[1] ?? null;
  return [await name("button.up"), await name("button.down")];
}

/**
 * Without JavaScript the page the Worker redirects to may still be the one published before
 * the write: reload until `accept()` holds (with JavaScript, app.js waits and reloads itself).
 */
async function untilShown(page, js, accept, what) {
  await eventually(
    async () => {
      try {
        await accept();
      } catch (error) {
        if (!js) await page.reload();
        throw error;
      }
    },
    { what, interval: 250 },
  );
}

for (const js of [true, false]) {
  const mode = js ? "with JavaScript" : "without JavaScript";

  describe(mode, () => {
    test("propose a project through the form and land on its page", async () => {
      await withPage(js, async (page) => {
        const name = unique("Night reading lamps");
        await page.goto(`${server.url}/`);
        await page.getByLabel("Project name").fill(name);
        await page.getByLabel("Tagline").fill("Borrow a solar lamp with your books");
        await page.getByRole("textbox", { name: "Tags" }).fill("Reading, night-life,  ");
        await page.getByLabel("Problems it addresses").fill("The library closes at 6 pm\n\nNo light at home after dark\n");
        await page.getByLabel("Solutions you propose").fill("Solar lamps lent like books");
        await page.getByRole("button", { name: "Propose project" }).click();

        await page.waitForURL(/\/projects\/\d+\/(\?published=pending)?$/);
        assert.equal(await page.locator("h1").textContent(), name);
        const tags = await page.locator("#tags ul.tags a").allTextContents();
        assert.deepEqual(tags, ["night-life", "reading"]);
        const problems = await page.locator("#problems .message").allTextContents();
        assert.deepEqual(problems.map((p) => p.trim()), ["The library closes at 6 pm", "No light at home after dark"]);
        assert.match(await page.locator("#solutions .message").textContent(), /Solar lamps lent like books/);
        if (js) {
          // app.js opens the page only once it is published.
          const id = Number(/\/projects\/(\d+)\//.exec(page.url())[1]);
          assert.equal((await api.page(`/api/v1/projects/${id}.json`)).stored, true);
        }
      });
    });

    test("vote and see the count change, also after a reload", async () => {
      const { id, json } = await api.project({ project_name: unique("Vote here"), tagline: "Counting votes", problems: ["Nobody knows what matters most"] });
      const thread = json.threads[0].thread_id;
      await withPage(js, async (page, context) => {
        await page.goto(`${server.url}/projects/${id}/`);
        assert.deepEqual(await voteLabels(page, thread), ["Up-vote 0", "Down-vote 0"]);
        await page.getByRole("button", { name: "Up-vote 0", exact: true }).click();
        if (js) {
          // Counted at once, then confirmed by the server and published (no page load).
          await eventually(async () => check((await voteLabels(page, thread))[0] === "Up-vote 1", "no optimistic count"));
          await page.getByRole("status").filter({ hasText: "Your vote is published." }).waitFor();
          assert.equal(page.url(), `${server.url}/projects/${id}/`);
          assert.equal(await page.locator(`#thread-${thread} button.up`).getAttribute("aria-pressed"), "true");
          await screenshot(page, "vote-published-note-desktop", { fullPage: false });
        } else {
          // Back where the visitor voted: the redirect keeps the thread's anchor.
          await page.waitForURL(new RegExp(`\\?published=pending#thread-${thread}$`));
        }
        await untilShown(page, js, async () => check((await voteLabels(page, thread))[0] === "Up-vote 1", "count not shown"), "the up-vote");
        await page.reload();
        assert.deepEqual(await voteLabels(page, thread), ["Up-vote 1", "Down-vote 0"]);
        const cookies = await context.cookies();
        assert.ok(cookies.some((c) => c.name === "voter" && c.httpOnly), "the browser got an HttpOnly voter cookie");

        // Changing one's mind moves the vote (the same voter, so no double count).
        await page.getByRole("button", { name: "Down-vote 0", exact: true }).click();
        if (js) {
          await eventually(async () => check((await voteLabels(page, thread)).join() === "Up-vote 0,Down-vote 1", "no switch"));
          await page.getByRole("status").filter({ hasText: "Your vote is published." }).waitFor();
        } else {
          await page.waitForURL(new RegExp(`\\?published=pending#thread-${thread}$`));
        }
        await untilShown(page, js, async () => check((await voteLabels(page, thread)).join() === "Up-vote 0,Down-vote 1", "switch not shown"), "the switched vote");
        await page.reload();
        assert.deepEqual(await voteLabels(page, thread), ["Up-vote 0", "Down-vote 1"]);
      });
    });

    test("add a reply and see it nested under its parent", async () => {
      const { id, json } = await api.project({ project_name: unique("Reply here"), tagline: "Threads nest", problems: ["The parent problem"] });
      const parent = json.threads[0].thread_id;
      const message = `A reply ${mode} ${Date.now()}`;
      await withPage(js, async (page) => {
        await page.goto(`${server.url}/projects/${id}/`);
        // By keyboard: follow the thread's Reply link (with script it opens the form under the
        // thread; without, the thread's reply page, the thread quoted), type, send.
        await page.locator(`#thread-${parent} a.reply`).focus();
        await page.keyboard.press("Enter");
        const field = js ? `reply-${parent}` : "reply-message";
        await eventually(
          async () => check((await page.evaluate(() => document.activeElement?.id)) === field, "the reply field has no focus"),
          { what: "the reply field focused" },
        );
        if (js) {
          assert.equal(await page.locator(`#thread-${parent} a.reply`).getAttribute("aria-expanded"), "true");
        } else {
          assert.match(page.url(), new RegExp(`/projects/${id}/threads/${parent}/reply$`));
          assert.match(await page.locator("figure.quoted .message").textContent(), /The parent problem/);
        }
        await page.keyboard.type(message);
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate(() => document.activeElement.textContent), "Post reply");
        await page.keyboard.press("Enter");

        await page.waitForURL(js ? /\/projects\/\d+\/#thread-\d+$/ : /\?published=pending#thread-\d+$/);
        const reply = Number(/#thread-(\d+)$/.exec(page.url())[1]);
        const nested = page.locator(`li:has(> #thread-${parent}) > ol.replies > li > #thread-${reply}`);
        await untilShown(page, js, async () => check((await nested.count()) === 1, "reply not nested"), "the nested reply");
        assert.match(await nested.locator(".message").textContent(), new RegExp(message));
        assert.equal(await nested.locator(".kind").textContent(), "Comment");
      });
    });

    test("add a solution through the discussion form", async () => {
      const { id } = await api.project({ project_name: unique("Discuss here"), tagline: "Solutions welcome", problems: ["It rains inside"] });
      await withPage(js, async (page) => {
        await page.goto(`${server.url}/projects/${id}/`);
        await page.getByLabel("Kind").selectOption("SOLUTION");
        await page.getByLabel("Message", { exact: true }).fill("Fix the roof with **recycled** tiles");
        await page.getByRole("button", { name: "Post", exact: true }).click();

        await page.waitForURL(js ? /\/projects\/\d+\/#thread-\d+$/ : /\?published=pending#thread-\d+$/);
        const thread = page.locator(`#solutions #thread-${/#thread-(\d+)$/.exec(page.url())[1]}`);
        await untilShown(page, js, async () => check((await thread.count()) === 1, "solution not shown"), "the new solution");
        assert.equal(await thread.locator(".kind").textContent(), "Solution");
        assert.equal(await thread.locator(".message strong").textContent(), "recycled");
      });
    });

    test("edit a project's tags", async () => {
      // Removing tags is the proposer's: the browser is the visitor who proposed.
      const proposer = await api.visitor();
      const { id } = await api.as(proposer).project({ project_name: unique("Retag me"), tagline: "Tags change", tags: ["old", "keep"] });
      await withPage(js, async (page) => {
        await page.goto(`${server.url}/projects/${id}/`);
        await page.getByText("Edit tags").click();
        await page.getByLabel("Tags to add").fill("New Tag, fresh");
        await page.getByLabel("Tags to remove").fill("old");
        await page.getByRole("button", { name: "Save tags" }).click();
        if (!js) await page.waitForURL(/\?published=pending$/);
        const want = ["fresh", "keep", "new-tag"];
        await untilShown(page, js, async () => {
          const tags = await page.locator("#tags ul.tags a").allTextContents();
          check(tags.join() === want.join(), `tags ${tags}`);
        }, "the new tags");
        assert.equal(new URL(page.url()).pathname, `/projects/${id}/`);
      }, undefined, proposer);
    });

    test("a stranger cannot remove a project's tags, and is told why", async () => {
      const { id } = await api.project({ project_name: unique("Not yours"), tagline: "Tags stay", tags: ["stays"] });
      await withPage(js, async (page) => {
        await page.goto(`${server.url}/projects/${id}/`);
        await page.getByText("Edit tags").click();
        await page.getByLabel("Tags to remove").fill("stays");
        await page.getByRole("button", { name: "Save tags" }).click();
        const error = page.locator("#tags-remove-error");
        await error.waitFor();
        assert.match(await error.textContent(), /only the proposer/);
        assert.equal(await page.getByLabel("Tags to remove").inputValue(), "stays", "what was typed is kept");
        const json = await api.page(`/api/v1/projects/${id}.json`);
        assert.deepEqual(json.json.tags, ["stays"]);
      });
    });

    test("edit your own comment, and see no Edit on anyone else's", async () => {
      const author = await api.visitor();
      const { id } = await api.project({ project_name: unique("Edit mine"), tagline: "Typos happen", problems: ["Someone else's problem"] });
      const [mine] = await api.as(author).threads(id, [{ thread_type: "COMMENT", message: "My *first* draft" }]);
      const json = await api.published(`/api/v1/projects/${id}.json`, (j) => j.threads.length === 2);
      const theirs = json.threads.find((t) => t.thread_id !== mine).thread_id;
      await withPage(js, async (page) => {
        if (js) {
          await page.goto(`${server.url}/projects/${id}/`);
          const edit = page.locator(`#thread-${mine} button.edit`);
          await edit.waitFor();
          assert.equal(await page.locator(`#thread-${theirs} button.edit`).count(), 0, "no Edit on someone else's thread");
          assert.equal(await page.locator("button.edit").count(), 1);
          await edit.click();
          const field = page.getByLabel(`Your message #${mine}`);
          assert.equal(await field.inputValue(), "My *first* draft", "the Markdown, not the HTML");
          await field.fill("My **second** draft");
          await page.getByRole("button", { name: "Save", exact: true }).click();
          await page.waitForURL(new RegExp(`/projects/${id}/#thread-${mine}$`));
        } else {
          // Without script, the visitor's page lists what they wrote with its edit link.
          await page.goto(`${server.url}/me`);
          await page.getByRole("link", { name: `Edit #${mine}` }).click();
          assert.match(page.url(), new RegExp(`/projects/${id}/threads/${mine}/edit$`));
          const field = page.getByLabel(`Your message #${mine}`);
          assert.equal(await field.inputValue(), "My *first* draft");
          await field.fill("My **second** draft");
          await page.getByRole("button", { name: "Save", exact: true }).click();
          await page.waitForURL(/\?published=pending#thread-\d+$/);
        }
        const thread = page.locator(`#thread-${mine}`);
        await untilShown(page, js, async () => check((await thread.locator(".message strong").count()) === 1, "edit not shown"), "the edit");
        assert.equal(await thread.locator(".message strong").textContent(), "second");
        assert.equal(await thread.locator(".edited").count(), 1, "marked edited");
        await screenshot(page, `edited-${js ? "js" : "nojs"}`);
      }, undefined, author);
      const published = await api.published(`/api/v1/projects/${id}.json`, (j) => j.threads.some((t) => t.edited_at));
      const edited = published.threads.find((t) => t.thread_id === mine);
      assert.equal(edited.revisions[0].message, "My *first* draft", "the old text is kept");
    });

    test("a visitor who owns nothing sees no edit controls", async () => {
      const { id } = await api.project({ project_name: unique("Look only"), tagline: "Read", problems: ["A problem"] });
      await withPage(js, async (page) => {
        await page.goto(`${server.url}/projects/${id}/`);
        await page.locator("article.thread").first().waitFor();
        assert.equal(await page.locator("button.edit, a[href$='/edit']").count(), 0);
        const thread = (await api.page(`/api/v1/projects/${id}.json`)).json.threads[0].thread_id;
        const response = await page.goto(`${server.url}/projects/${id}/threads/${thread}/edit`);
        assert.equal(response.status(), 403);
        assert.match(await page.getByRole("status").first().textContent(), /Only the author/);
        assert.equal(await page.locator("textarea").count(), 0);
      });
    });

    test("an invalid form shows the error next to the field and keeps what was typed", async () => {
      await withPage(js, async (page) => {
        const name = unique("Fixed after errors");
        await page.goto(`${server.url}/`);
        // A name of spaces passes the browser's `required`, not the server's rules.
        await page.getByLabel("Project name").fill("   ");
        await page.getByLabel("Tagline").fill("Errors are shown where they are");
        await page.getByRole("textbox", { name: "Tags" }).fill("good, bad/tag");
        await page.getByLabel("Problems it addresses").fill("First problem\nSecond problem");

        const submit = async () => {
          const [response] = await Promise.all([
            js ? null : page.waitForNavigation(),
            page.getByRole("button", { name: "Propose project" }).click(),
          ]);
          if (!js) assert.ok(response.status() >= 400 && response.status() < 500, `status ${response.status()}`);
        };
        const expectError = async (id, pattern) => {
          const control = page.locator(`#${id}`);
          const error = page.locator(`#${id}-error`);
          await error.waitFor();
          assert.match(await error.textContent(), pattern);
          assert.equal(await control.getAttribute("aria-invalid"), "true");
          assert.ok((await control.getAttribute("aria-describedby")).split(" ").includes(`${id}-error`));
          // Next to its field: between the label (and hint) and the control.
          assert.equal(await control.evaluate((c) => c.previousElementSibling.id), `${id}-error`);
          assert.equal(await page.locator('[aria-invalid="true"]').count(), 1, "only the refused field is marked");
          if (js) assert.equal(await page.evaluate(() => document.activeElement.id), id, "focus moves to the field");
        };

        await submit();
        await expectError("propose-name", /must not be empty/);
        assert.equal(await page.getByLabel("Tagline").inputValue(), "Errors are shown where they are");
        assert.equal(await page.getByRole("textbox", { name: "Tags" }).inputValue(), "good, bad/tag");
        assert.equal(await page.getByLabel("Problems it addresses").inputValue(), "First problem\nSecond problem");
        if (!js) assert.match(await page.getByRole("alert").textContent(), /Project name: must not be empty/);
        await screenshot(page, `form-error-${js ? "js" : "nojs"}-desktop`);

        await page.getByLabel("Project name").fill(name);
        await submit();
        await expectError("propose-tags", /letters, digits and '-'/);
        assert.equal(await page.getByLabel("Project name").inputValue(), name);
        assert.equal(await page.getByRole("textbox", { name: "Tags" }).inputValue(), "good, bad/tag");
        assert.equal(await page.getByLabel("Problems it addresses").inputValue(), "First problem\nSecond problem");

        await page.getByRole("textbox", { name: "Tags" }).fill("good, fine-tag");
        await page.getByRole("button", { name: "Propose project" }).click();
        await page.waitForURL(/\/projects\/\d+\/(\?published=pending)?$/);
        assert.equal(await page.locator("h1").textContent(), name);
        assert.deepEqual(await page.locator("#tags ul.tags a").allTextContents(), ["fine-tag", "good"]);
      });
    });
  });
}

describe("with JavaScript, after a no-script redirect", () => {
  test("the page shows the change at once, then says when it is published", async () => {
    const { id, json } = await api.project({ project_name: unique("Redirected"), tagline: "Pending", problems: ["Vote without script"] });
    const thread = json.threads[0].thread_id;
    await withPage(true, async (page) => {
      await page.goto(`${server.url}/projects/${id}/`);
      // Submit the vote form natively (what a browser without script does): no app.js handler.
      await page.locator(`#thread-${thread} form.vote`).evaluate((form) => {
        const direction = document.createElement("input");
        direction.type = "hidden";
        direction.name = "direction";
        direction.value = "up";
        form.append(direction);
        form.submit();
      });
      await page.waitForURL(new RegExp(`\\?published=pending#thread-${thread}$`), { waitUntil: "commit" });
      // The page the redirect lands on is rendered from the data: the vote shows already.
      await eventually(async () => check((await voteLabels(page, thread))[0] === "Up-vote 1", "vote not shown"));
      // The marker leaves the address at once, so a manual reload does not wait again.
      await eventually(async () => check(!page.url().includes("published="), page.url()));
      await page.getByRole("status").filter({ hasText: "Your change is published" }).waitFor();
      assert.equal(page.url(), `${server.url}/projects/${id}/#thread-${thread}`);
    });
  });
});

describe("finding and ordering", () => {
  test("search from the header without JavaScript, and open the result", async () => {
    const word = unique("Zebrafish").split(" ").slice(1).join("x"); // a word no other project has
    const { id } = await api.project({ project_name: unique("Found"), tagline: `An aquarium for ${word} lovers`, problems: ["p"] });
    await withPage(false, async (page) => {
      await page.goto(`${server.url}/`);
      await page.getByRole("searchbox", { name: "Search projects" }).fill(word.toUpperCase());
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await page.waitForURL(/\/search\?q=/);
      const result = page.locator(`a[href="/projects/${id}/"]`);
      await result.waitFor();
      assert.equal(await page.locator("li.card").count(), 1, "only the match");
      await screenshot(page, "search-no-js-desktop", { fullPage: false });
      await result.click();
      await page.waitForURL(new RegExp(`/projects/${id}/$`));
    });
  });

  test("with JavaScript, a section switches to newest first and back", async () => {
    const { id, json } = await api.project({ project_name: unique("Ordered"), tagline: "best or newest", problems: ["first problem"] });
    const older = json.threads[0].thread_id;
    const [newer] = await api.threads(id, [{ thread_type: "PROBLEM", message: "second problem" }]);
    await api.vote(older, "up");
    await api.published(`/api/v1/projects/${id}.json`, (j) => j.threads.length === 2 && j.threads[0].up_vote === 1);
    const order = (page) => page.locator("#problems article.thread").evaluateAll((all) => all.map((a) => Number(a.id.slice(7))));
    await withPage(true, async (page) => {
      await page.goto(`${server.url}/projects/${id}/`);
      assert.deepEqual(await order(page), [older, newer], "best first: the voted thread leads");
      const problems = page.locator("#problems");
      await problems.getByRole("button", { name: "Newest first" }).click();
      assert.deepEqual(await order(page), [newer, older]);
      assert.equal(await problems.getByRole("button", { name: "Newest first" }).getAttribute("aria-pressed"), "true");
      await problems.getByRole("button", { name: "Best first" }).click();
      assert.deepEqual(await order(page), [older, newer]);
    });
    await withPage(false, async (page) => {
      await page.goto(`${server.url}/projects/${id}/`);
      assert.equal(await page.getByRole("button", { name: "Newest first" }).count(), 0, "no control that cannot work without script");
      assert.deepEqual(await order(page), [older, newer], "the ranked order stands");
    });
  });
});
