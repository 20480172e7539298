// The same work as crowdfund's proposal and vote, without crowdfund: the same D1 statements
// (from the same migrations), in the same round trips, and the same queue message, from plain
// JS. No validation, identity, CSRF check, rate limit or log. write_bench divides crowdfund's
// requests per second by this Worker's, so the ratio is what crowdfund adds to the platform.
// core/tests/reference_worker.rs holds these statements equal to the ones the core issues.
//
//   POST /propose {project_name, tagline, tags, problems, solutions}  -> 201 {project_id}
//   POST /threads/{id}/vote {direction: "up"|"down", voter}           -> 200 {up_vote, down_vote, ...}
//   GET /pages/{key}: a stored page's R2 read, as crowdfund's GET route reads it (PUT stores one)

const AUTHOR = "0123456789abcdef0123456789abcdef";

function now() {
  const ms = Date.now();
  return { ms, rfc3339: new Date(ms).toISOString().slice(0, 19) + "Z" };
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

async function propose(env, p) {
  const t = now();
  const nameKey = p.project_name.toLowerCase();
  const outboxId = randomId();
  const tags = p.tags || [];
  const statements = [
    env.DB.prepare(
      "INSERT INTO projects (project_name, name_key, tagline, created_at, author, author_name) VALUES (?1, ?2, ?3, ?4, ?5, (SELECT display_name FROM visitors WHERE author = ?5))",
    ).bind(p.project_name, nameKey, p.tagline, t.rfc3339, AUTHOR),
  ];
  for (const tag of tags) {
    statements.push(
      env.DB.prepare("INSERT INTO tags (project_id, tag) SELECT project_id, ?2 FROM projects WHERE name_key = ?1").bind(nameKey, tag),
    );
  }
  for (const [kind, messages] of [["PROBLEM", p.problems || []], ["SOLUTION", p.solutions || []]]) {
    for (const message of messages) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO threads (project_id, thread_type, message, created_at, author, author_name) SELECT project_id, ?2, ?3, ?4, ?5, (SELECT display_name FROM visitors WHERE author = ?5) FROM projects WHERE name_key = ?1",
        ).bind(nameKey, kind, message, t.rfc3339, AUTHOR),
      );
    }
  }
  statements.push(
    env.DB.prepare(
      "INSERT OR REPLACE INTO project_search (rowid, name, tagline, tags) SELECT p.project_id, p.project_name, p.tagline, coalesce((SELECT group_concat(t.tag, ' ') FROM tags t WHERE t.project_id = p.project_id), '') FROM projects p WHERE (p.name_key = ?1) AND p.hidden = 0",
    ).bind(nameKey),
  );
  statements.push(
    env.DB.prepare(
      "INSERT INTO outbox (outbox_id, change, created_ms) SELECT ?2, json_object('change', 'proposed', 'project_id', project_id, 'tags', json(?3)), ?4 FROM projects WHERE name_key = ?1",
    ).bind(nameKey, outboxId, JSON.stringify(tags), t.ms),
  );
  statements.push(env.DB.prepare("SELECT project_id FROM projects WHERE name_key = ?1").bind(nameKey));
  const results = await env.DB.batch(statements);
  const projectId = results[results.length - 1].results[0].project_id;
  await env.CHANGES.send(
    { outbox_id: outboxId, change: { change: "proposed", project_id: projectId, tags } },
    { contentType: "json" },
  );
  return json(201, { project_id: projectId });
}

async function vote(env, threadId, body) {
  const t = now();
  const found = await env.DB.prepare(
    "WITH RECURSIVE up(id, parent, hidden) AS (SELECT thread_id, parent_id, hidden FROM threads WHERE thread_id = ?1 UNION ALL SELECT t.thread_id, t.parent_id, t.hidden FROM threads t JOIN up ON t.thread_id = up.parent) SELECT th.project_id FROM threads th JOIN projects p ON p.project_id = th.project_id WHERE th.thread_id = ?1 AND p.hidden = 0 AND NOT EXISTS (SELECT 1 FROM up WHERE up.hidden = 1)",
  )
    .bind(threadId)
    .first();
  if (!found) return json(404, { error: "no such thread" });
  const projectId = found.project_id;
  const stored = body.direction === "down" ? -1 : 1;
  const outboxId = randomId();
  const change = { change: "voted", project_id: projectId };
  const results = await env.DB.batch([
    env.DB.prepare("SELECT direction FROM votes WHERE thread_id = ?1 AND voter = ?2").bind(threadId, body.voter),
    env.DB.prepare(
      "UPDATE threads SET up_vote = up_vote + (?3 = 1) - coalesce((SELECT direction = 1 FROM votes WHERE thread_id = ?1 AND voter = ?2), 0), down_vote = down_vote + (?3 = -1) - coalesce((SELECT direction = -1 FROM votes WHERE thread_id = ?1 AND voter = ?2), 0) WHERE thread_id = ?1 RETURNING up_vote, down_vote",
    ).bind(threadId, body.voter, stored),
    env.DB.prepare(
      "INSERT INTO votes (thread_id, voter, direction) VALUES (?1, ?2, ?3) ON CONFLICT (thread_id, voter) DO UPDATE SET direction = excluded.direction WHERE direction <> excluded.direction",
    ).bind(threadId, body.voter, stored),
    env.DB.prepare(
      "INSERT INTO outbox (outbox_id, change, created_ms) SELECT ?1, ?2, ?3 WHERE changes() > 0",
    ).bind(outboxId, JSON.stringify(change), t.ms),
  ]);
  const previous = results[0].results[0]?.direction;
  const changed = previous !== stored;
  if (changed) {
    await env.CHANGES.send({ outbox_id: outboxId, change }, { contentType: "json" });
  }
  const totals = results[1].results[0];
  return json(200, {
    thread_id: threadId,
    project_id: projectId,
    vote: body.direction,
    changed,
    up_vote: totals.up_vote,
    down_vote: totals.down_vote,
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/propose") {
      return propose(env, await request.json());
    }
    const voteRoute = url.pathname.match(/^\/threads\/(\d+)\/vote$/);
    if (request.method === "POST" && voteRoute) {
      return vote(env, Number(voteRoute[1]), await request.json());
    }
    const page = url.pathname.match(/^\/pages\/(.+)$/);
    if (page && request.method === "PUT") {
      await env.PAGES.put(page[1], await request.arrayBuffer(), { httpMetadata: { contentType: "text/html" } });
      return new Response(null, { status: 204 });
    }
    if (page) {
      const object = await env.PAGES.get(page[1]);
      if (!object) return new Response("not found", { status: 404 });
      return new Response(object.body, {
        headers: { "content-type": object.httpMetadata.contentType, etag: object.httpEtag },
      });
    }
    // Set-up only (not measured): the benchmark's thread to vote on.
    const first = url.pathname.match(/^\/first-thread\/(\d+)$/);
    if (first) {
      const row = await env.DB.prepare("SELECT min(thread_id) AS thread_id FROM threads WHERE project_id = ?1")
        .bind(Number(first[1]))
        .first();
      return json(200, row);
    }
    return new Response("reference", { headers: { "content-type": "text/plain" } });
  },
};
