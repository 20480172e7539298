// One page of every kind the site serves, for the checkers that look at whole pages (axe and
// the Nu HTML checker, accessibility.test.mjs): a site with a project that has tags, threads
// and a reply, its author's identity, and how to open each kind of page in a browser.

import { check } from "./helpers.mjs";

/**
 * Writes the data the pages show through the API and waits until it is published: a project
 * with tags, a problem and a solution, and a comment with a reply by `author` (a visitor).
 * Resolves to `{ project, thread, author, tag }`.
 */
export async function seedSite(api) {
  const author = await api.visitor();
  const tag = "checked";
  const project = await api.propose({
    project_name: "Checked by outside checkers",
    tagline: "Accessible and valid on every page",
    tags: [tag, "a11y"],
    problems: ["Pages nobody has *checked*"],
    solutions: ["Run axe and the Nu checker on each kind"],
  });
  const [comment] = await api.as(author).threads(project, [{ thread_type: "COMMENT", message: "A comment with a [link](https://example.com/)" }]);
  await api.as(author).threads(project, [{ parent_id: comment, message: "And a reply to it" }]);
  await api.published(`/api/v1/projects/${project}.json`, (j) => j.threads.length === 4);
  for (const listed of ["/api/v1/projects.json", "/api/v1/projects/page/1.json", `/api/v1/tags/${tag}.json`, "/api/v1/top.json"]) {
    await api.published(listed, (j) => j.projects.some((p) => p.project_id === project));
  }
  return { project, thread: comment, author, tag };
}

/**
 * The kinds of page: `name`, whether it needs the author's identity, and `open(page, base,
 * site)`, which navigates there and resolves to the navigation's response (whose body is the
 * page as the server sent it).
 */
export const PAGE_KINDS = [
  { name: "front", open: (page, base) => page.goto(`${base}/`) },
  { name: "listing", open: (page, base) => page.goto(`${base}/page/1/`) },
  { name: "tag", open: (page, base, site) => page.goto(`${base}/tags/${site.tag}/`) },
  { name: "detail", open: (page, base, site) => page.goto(`${base}/projects/${site.project}/`) },
  { name: "reply", open: (page, base, site) => page.goto(`${base}/projects/${site.project}/threads/${site.thread}/reply`) },
  { name: "report", open: (page, base, site) => page.goto(`${base}/projects/${site.project}/threads/${site.thread}/report`) },
  {
    name: "edit",
    asAuthor: true,
    open: (page, base, site) => page.goto(`${base}/projects/${site.project}/threads/${site.thread}/edit`),
  },
  { name: "me", asAuthor: true, open: (page, base) => page.goto(`${base}/me`) },
  { name: "top", open: (page, base) => page.goto(`${base}/top/`) },
  { name: "search", open: (page, base) => page.goto(`${base}/search?q=outside+checkers`) },
  { name: "search-refused", open: (page, base) => page.goto(`${base}/search?q=${"x ".repeat(9)}`) },
  { name: "not-found", open: (page, base) => page.goto(`${base}/no-such-page/`) },
  {
    // The page a refused HTML form post answers: the front page's proposal form, sent as a
    // browser without script sends it (form.submit() skips app.js), with a name of spaces.
    name: "form-error",
    open: async (page, base) => {
      await page.goto(`${base}/`);
      await page.getByLabel("Project name").fill("   ");
      await page.getByLabel("Tagline").fill("Refused for its name");
      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.locator('form[data-form="propose"]').evaluate((form) => form.submit()),
      ]);
      check(response.status() === 422, `the refused form answers 422, not ${response.status()}`);
      return response;
    },
  },
];
