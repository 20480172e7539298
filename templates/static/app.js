// crowdfund: progressive enhancement only; every page and every form works without this script.
//
// - <time datetime> elements show relative times ("3 hours ago"), the absolute time in the title.
// - A thread's "Reply" link (which opens the thread's reply page without script) opens the
//   page's one reply form (<template id="reply-template">) under the thread instead.
// - The visitor's own threads (their data-author is the readable `author` cookie the Worker
//   sets with the identity) get an Edit button that edits the message in place. The page is
//   the same for everyone; nothing secret is read (the token itself is an HttpOnly cookie).
//   Without script, /me lists a visitor's threads with links to their edit pages.
// - Forms marked data-form="propose|tags|thread|vote" are sent to the write API as JSON with
//   fetch instead of a page load. A refused write shows its error next to the field
//   (aria-invalid + aria-describedby) and keeps everything typed. Votes count at once and are
//   reconciled with the server's totals; a first write without an identity is given one.
// - After a write a polite note ("Publishing your change…") stays until the page's JSON twin
//   (<link rel="alternate" type="application/json">) shows the change, then the page reloads
//   (a proposal opens its own new page). A page reached by the no-script redirect
//   (?published=pending) shows the same note until its twin is fresh. The writer reads past
//   the edge cache (`?fresh=`), so a write shows before the edge's copy is purged.
"use strict";

(function () {
  var POLL_MS = 300;
  var DEADLINE_MS = 30000;
  // After a no-script write, how long a page that already matches its twin keeps waiting for
  // the change to arrive (publishing normally takes a second or two).
  var QUIET_MS = 10000;
  var VOTES_KEY = "crowdfund:votes";

  /* ---------- Relative times ---------- */

  var units = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1]
  ];

  function relative(date, now) {
    var seconds = Math.round((date.getTime() - now) / 1000);
    var format = typeof Intl !== "undefined" && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat("en", { numeric: "auto" })
      : null;
    for (var i = 0; i < units.length; i++) {
      var size = units[i][1];
      if (Math.abs(seconds) >= size || size === 1) {
        var n = Math.round(seconds / size);
        if (format) return format.format(n, units[i][0]);
        var abs = Math.abs(n);
        var text = abs + " " + units[i][0] + (abs === 1 ? "" : "s");
        return n < 0 ? text + " ago" : "in " + text;
      }
    }
    return "";
  }

  function updateTimes() {
    var now = Date.now();
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) continue;
      if (!el.hasAttribute("title")) el.setAttribute("title", el.textContent);
      el.textContent = relative(date, now);
    }
  }

  /* ---------- The status note (a live region present in every page) ---------- */

  var noteTimer = 0;

  // Shows `text` in the note; options: fade (ms until it clears), action {label, run}.
  function say(text, options) {
    var el = document.getElementById("status");
    if (!el) return;
    clearTimeout(noteTimer);
    el.textContent = text;
    if (options && options.action) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = options.action.label;
      button.addEventListener("click", options.action.run);
      el.appendChild(button);
    }
    if (options && options.fade) {
      noteTimer = setTimeout(function () {
        if (el.firstChild && el.firstChild.nodeValue === text) el.textContent = "";
      }, options.fade);
    }
  }

  /* ---------- HTTP ---------- */

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // Sends a write; resolves to {ok, status, data} (status 0 when the network failed).
  async function api(method, url, body) {
    var init = { method: method, headers: { accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, data: null };
    }
    var data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function twinUrl() {
    var link = document.querySelector('link[rel="alternate"][type="application/json"]');
    return link ? link.getAttribute("href") : null;
  }

  // A page's URL as its writer reads it: `?fresh=` makes the edge cache pass the request to the
  // Worker (and keep nothing), so a write shows before the edge's copy is purged.
  function fresh(url) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "fresh=" + Date.now();
  }

  // Reads a published JSON page: {stored, body}, or null. `stored` is false while the Worker
  // answers with a page rendered on the fly because the publisher has not stored it yet.
  async function readJson(url) {
    try {
      var response = await fetch(fresh(url), { headers: { accept: "application/json" }, cache: "no-store", credentials: "same-origin" });
      if (!response.ok) return null;
      return { stored: response.headers.get("x-crowdfund-page") !== "rendered", body: await response.json() };
    } catch (e) {
      return null;
    }
  }

  // Polls `url` until check(answer) holds; resolves to the answer, or null at the deadline.
  async function until(url, check, deadline) {
    var end = Date.now() + (deadline || DEADLINE_MS);
    for (var wait = POLL_MS; ; wait = Math.min(wait * 1.3, 2000)) {
      var answer = url ? await readJson(url) : null;
      if (answer && check(answer)) return answer;
      if (Date.now() + wait > end) return null;
      await sleep(wait);
    }
  }

  /* ---------- Form fields to the API's JSON ---------- */

  function commas(text) {
    return text.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
  }

  function lines(text) {
    return text.split(/\r?\n/).map(function (t) { return t.trim(); }).filter(Boolean);
  }

  function value(form, name) {
    var el = form.elements.namedItem(name);
    return el && typeof el.value === "string" ? el.value : "";
  }

  var bodies = {
    propose: function (form) {
      return {
        project_name: value(form, "project_name"),
        tagline: value(form, "tagline"),
        tags: commas(value(form, "tags")),
        problems: lines(value(form, "problems")),
        solutions: lines(value(form, "solutions"))
      };
    },
    tags: function (form) {
      return { add: commas(value(form, "add")), remove: commas(value(form, "remove")) };
    },
    edit: function (form) {
      return { threads: [{ thread_id: Number(value(form, "thread_id")), message: value(form, "message") }] };
    },
    thread: function (form) {
      var thread = { thread_type: value(form, "thread_type") || "COMMENT", message: value(form, "message") };
      var parent = value(form, "parent_id");
      if (parent) thread.parent_id = Number(parent);
      return { threads: [thread] };
    }
  };

  // The JSON API's verb per form (HTML forms can only POST; the JSON tags route is PUT).
  var methods = { propose: "POST", tags: "PUT", thread: "POST", vote: "POST", edit: "POST" };

  /* ---------- Errors next to their fields ---------- */

  // Maps an API error field ("tags", "problems[1]", "threads[0].message") to a visible control.
  function controlFor(form, field) {
    if (!field) return null;
    var name = field.replace(/^threads\[\d+\]\./, "").split(/[[.]/)[0];
    if (name === "threads") name = "message";
    var el = form.elements.namedItem(name);
    return el && el.id && el.type !== "hidden" ? el : null;
  }

  function itemNote(field) {
    var m = /^(problems|solutions)\[(\d+)\]$/.exec(field || "");
    if (!m) return "";
    return (m[1] === "problems" ? "Problem " : "Solution ") + (Number(m[2]) + 1) + ": ";
  }

  function describedBy(control, add) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== add && document.getElementById(id);
    });
    if (add) ids.push(add);
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function clearErrors(form) {
    var old = form.querySelectorAll(".field-error, .form-error");
    for (var i = 0; i < old.length; i++) old[i].remove();
    var summary = document.querySelector(".error-summary");
    if (summary) summary.remove();
    var invalid = form.querySelectorAll('[aria-invalid="true"]');
    for (var j = 0; j < invalid.length; j++) {
      invalid[j].removeAttribute("aria-invalid");
      describedBy(invalid[j], null);
    }
  }

  function errorOf(answer) {
    if (answer.data && answer.data.error && answer.data.error.message) return answer.data.error;
    if (answer.status === 0) return { message: "Could not reach the server. Check your connection and try again." };
    return { message: "The server could not save this (status " + answer.status + "). Please try again." };
  }

  function showError(form, error) {
    var control = controlFor(form, error.field);
    var p = document.createElement("p");
    var prefix = document.createElement("span");
    prefix.className = "visually-hidden";
    prefix.textContent = "Error: ";
    p.append(prefix, itemNote(error.field) + error.message);
    if (control) {
      p.className = "field-error";
      p.id = control.id + "-error";
      control.before(p);
      control.setAttribute("aria-invalid", "true");
      describedBy(control, p.id);
      var details = control.closest("details");
      if (details) details.open = true;
      control.focus();
    } else {
      p.className = "form-error";
      p.setAttribute("role", "alert");
      if (form.classList.contains("vote")) form.append(p);
      else form.prepend(p);
    }
  }

  function setBusy(form, busy) {
    if (busy) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
  }

  // Sends the form's write; resolves to the answer's data, or null after showing the error.
  // A write refused for its identity (a cookie signed with a secret since rotated) gets a new
  // one, once.
  async function write(form, kind, body) {
    clearErrors(form);
    setBusy(form, true);
    var answer = await api(methods[kind], form.action, body);
    if (answer.status === 401) {
      var visitor = await api("POST", "/api/v1/visitors");
      if (visitor.ok) answer = await api(methods[kind], form.action, body);
    }
    setBusy(form, false);
    if (!answer.ok) {
      showError(form, errorOf(answer));
      return null;
    }
    return answer.data || {};
  }

  /* ---------- After a write: wait for the page to be published ---------- */

  function returnTo(form) {
    var path = value(form, "return_to");
    return path.charAt(0) === "/" && path.charAt(1) !== "/" ? path : "/";
  }

  // Whether a form other than `except` holds typed text a reload would lose.
  function dirtyElsewhere(except) {
    var controls = document.querySelectorAll("form textarea, form input:not([type=hidden])");
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i];
      if (c.form !== except && c.value !== c.defaultValue) return true;
    }
    return false;
  }

  // Shows the page again as its writer sees it: past the edge's copy, which may not be
  // purged yet (start() tidies the address afterwards).
  function reloadAt(hash) {
    if (hash && "scrollRestoration" in history) history.scrollRestoration = "manual";
    location.replace(fresh(location.pathname) + hash);
  }

  // Shows the published page: reloads, unless that would lose what is typed elsewhere.
  function showPublished(form, published, hash) {
    var reload = { label: "Reload", run: function () { reloadAt(hash); } };
    if (!published) {
      say("Saved. It will appear here in a moment.", { action: reload });
    } else if (dirtyElsewhere(form)) {
      say("Published.", { action: reload });
    } else {
      reloadAt(hash);
    }
  }

  // A write sent from a page without a JSON twin (the form error page): go back to the page
  // the form belongs to, which waits for the change like after a no-script write.
  function goBack(form, hash) {
    location.assign(returnTo(form) + "?published=pending" + hash);
  }

  /* ---------- Votes ---------- */

  var votes = {
    read: function () {
      try {
        return JSON.parse(localStorage.getItem(VOTES_KEY) || "{}") || {};
      } catch (e) {
        return {};
      }
    },
    get: function (id) {
      return votes.read()[id] || null;
    },
    set: function (id, direction) {
      try {
        var all = votes.read();
        all[id] = direction;
        localStorage.setItem(VOTES_KEY, JSON.stringify(all));
      } catch (e) {
        /* private mode: the pressed state just is not remembered */
      }
    }
  };

  function threadIdOf(form) {
    var m = /\/threads\/(\d+)\/vote$/.exec(form.getAttribute("action") || "");
    return m ? Number(m[1]) : 0;
  }

  function countOf(button) {
    var n = button && button.querySelector(".n");
    return n ? Number(n.textContent) || 0 : null;
  }

  // Shows vote counts and which way this visitor voted.
  function showVotes(form, counts, pressed) {
    ["up", "down"].forEach(function (direction) {
      var button = form.querySelector("button." + direction);
      var n = button && button.querySelector(".n");
      if (!n) return;
      n.textContent = String(counts[direction]);
      button.setAttribute("aria-pressed", String(pressed === direction));
    });
  }

  async function vote(form, submitter) {
    var direction = submitter && submitter.value;
    if (direction !== "up" && direction !== "down") return;
    var id = threadIdOf(form);
    var before = { up: countOf(form.querySelector("button.up")), down: countOf(form.querySelector("button.down")) };
    var previous = votes.get(id);
    var counted = before.up !== null && before.down !== null;
    if (counted && previous !== direction) {
      var guess = { up: before.up, down: before.down };
      guess[direction] += 1;
      if (previous) guess[previous] = Math.max(0, guess[previous] - 1);
      showVotes(form, guess, direction);
    }
    var data = await write(form, "vote", { direction: direction });
    if (!data) {
      if (counted) showVotes(form, before, previous);
      return;
    }
    var totals = { up: data.up_vote, down: data.down_vote };
    votes.set(id, direction);
    if (counted) showVotes(form, totals, direction);
    if (!twinUrl()) return goBack(form, "");
    if (!data.changed) {
      say("Your vote was already counted.", { fade: 4000 });
      return;
    }
    say("Publishing your vote…");
    var published = await until(twinUrl(), function (a) {
      return (a.body.threads || []).some(function (t) {
        return t.thread_id === id && t.up_vote === totals.up && t.down_vote === totals.down;
      });
    });
    say(published ? "Your vote is published." : "Your vote is saved; it will show here in a moment.", { fade: 5000 });
  }

  /* ---------- The other forms ---------- */

  var handlers = {
    propose: async function (form) {
      var data = await write(form, "propose", bodies.propose(form));
      if (!data) return;
      var id = data.project_id;
      say("Publishing your project…");
      await until("/api/v1/projects/" + id + ".json", function (a) { return a.stored; });
      form.reset();
      location.assign(fresh("/projects/" + id + "/"));
    },
    tags: async function (form) {
      var data = await write(form, "tags", bodies.tags(form));
      if (!data) return;
      if (!twinUrl()) return goBack(form, "");
      var want = (data.tags || []).slice().sort().join(",");
      say("Publishing your change…");
      var published = await until(twinUrl(), function (a) {
        return a.stored && (a.body.tags || []).slice().sort().join(",") === want;
      });
      form.reset();
      showPublished(form, published, "");
    },
    thread: async function (form) {
      var data = await write(form, "thread", bodies.thread(form));
      if (!data) return;
      var thread = (data.threads || [])[0] || {};
      var hash = thread.thread_id ? "#thread-" + thread.thread_id : "";
      if (!twinUrl()) return goBack(form, hash);
      say(value(form, "parent_id") ? "Publishing your reply…" : "Publishing your message…");
      var published = await until(twinUrl(), function (a) {
        return (a.body.threads || []).some(function (t) { return t.thread_id === thread.thread_id; });
      });
      form.reset();
      showPublished(form, published, hash);
    },
    edit: async function (form) {
      var data = await write(form, "edit", bodies.edit(form));
      if (!data) return;
      var thread = (data.threads || [])[0] || {};
      var hash = "#thread-" + thread.thread_id;
      if (!twinUrl()) return goBack(form, hash);
      say("Publishing your edit…");
      var published = await until(twinUrl(), function (a) {
        return (a.body.threads || []).some(function (t) {
          return t.thread_id === thread.thread_id && t.edited_at === thread.edited_at;
        });
      });
      showPublished(form, published, hash);
    },
    vote: vote
  };

  function onSubmit(event) {
    var form = event.target;
    var kind = form && form.getAttribute && form.getAttribute("data-form");
    if (!kind || !handlers[kind]) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    handlers[kind](form, event.submitter).catch(function () {
      setBusy(form, false);
      showError(form, { message: "Something went wrong. Please try again." });
    });
  }

  /* ---------- Replies in place ---------- */

  // Opens (or focuses) the reply form under the thread of a "Reply" link.
  function openReply(link) {
    var id = link.getAttribute("data-reply");
    var template = document.getElementById("reply-template");
    var footer = link.parentNode;
    var open = footer.querySelector("form.reply-form");
    if (open) {
      open.querySelector("textarea").focus();
      return;
    }
    var form = template.content.querySelector("form").cloneNode(true);
    form.elements.namedItem("parent_id").value = id;
    var textarea = form.querySelector("textarea");
    textarea.id = "reply-" + id;
    var label = form.querySelector("label");
    label.htmlFor = textarea.id;
    label.textContent = "Your reply to #" + id;
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () {
      form.remove();
      link.setAttribute("aria-expanded", "false");
      link.focus();
    });
    form.querySelector(".submit").append(" ", cancel);
    footer.append(form);
    link.setAttribute("aria-expanded", "true");
    textarea.focus();
  }

  /* ---------- Editing one's own threads in place ---------- */

  // The visitor's author key: a readable cookie, not a secret (pages carry every author's).
  function ownAuthor() {
    var m = /(?:^|;\s*)author=([0-9a-f]{32})(?:;|$)/.exec(document.cookie);
    return m ? m[1] : null;
  }

  // Adds an Edit button to each of the visitor's own threads on a project's page.
  function offerEdits() {
    var author = ownAuthor();
    if (!author || !twinUrl() || !/^\/projects\/\d+\/$/.test(location.pathname)) return;
    var own = document.querySelectorAll('article.thread[data-author="' + author + '"]');
    for (var i = 0; i < own.length; i++) {
      var id = own[i].id.replace("thread-", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "edit";
      button.setAttribute("data-edit", id);
      button.setAttribute("aria-expanded", "false");
      button.append("Edit");
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " #" + id;
      button.append(hidden);
      own[i].querySelector("footer.actions").append(button);
    }
  }

  // Opens the edit form of a thread in place of its message, filled with its Markdown (from
  // the page's JSON twin); the thread's edit page when that cannot be read.
  async function openEdit(button) {
    var article = button.closest("article.thread");
    var id = Number(button.getAttribute("data-edit"));
    var open = article.querySelector("form.edit-form");
    if (open) {
      open.querySelector("textarea").focus();
      return;
    }
    var editPage = location.pathname + "threads/" + id + "/edit";
    var answer = await readJson(twinUrl());
    var thread = answer && (answer.body.threads || []).filter(function (t) { return t.thread_id === id; })[0];
    if (!thread) {
      location.assign(editPage);
      return;
    }
    var form = document.createElement("form");
    form.className = "form edit-form";
    form.method = "post";
    form.action = location.pathname.replace(/^\/projects\/(\d+)\/$/, "/api/v1/projects/$1/threads");
    form.setAttribute("data-form", "edit");
    var fields = [["return_to", location.pathname], ["thread_id", String(id)]];
    fields.forEach(function (f) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = f[0];
      input.value = f[1];
      form.append(input);
    });
    var field = document.createElement("div");
    field.className = "field";
    var label = document.createElement("label");
    label.htmlFor = "edit-message-" + id;
    label.textContent = "Your message #" + id;
    var textarea = document.createElement("textarea");
    textarea.id = label.htmlFor;
    textarea.name = "message";
    textarea.rows = 6;
    textarea.required = true;
    textarea.textContent = thread.message;
    field.append(label, textarea);
    var submit = document.createElement("p");
    submit.className = "submit";
    var save = document.createElement("button");
    save.type = "submit";
    save.className = "primary";
    save.textContent = "Save";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    var message = article.querySelector(".message");
    cancel.addEventListener("click", function () {
      form.remove();
      message.hidden = false;
      button.setAttribute("aria-expanded", "false");
      button.focus();
    });
    submit.append(save, " ", cancel);
    form.append(field, submit);
    message.hidden = true;
    message.after(form);
    button.setAttribute("aria-expanded", "true");
    textarea.focus();
  }

  /* ---------- A section's order: best first (as published) or newest first ---------- */

  function threadIdOfItem(item) {
    var article = item.querySelector("article.thread");
    return article ? Number(article.id.replace("thread-", "")) : 0;
  }

  function orderSection(section, order) {
    var lists = section.querySelectorAll("ol.threads, ol.replies");
    for (var i = 0; i < lists.length; i++) {
      var items = Array.prototype.slice.call(lists[i].children);
      items.sort(function (a, b) {
        return order === "newest" ? threadIdOfItem(b) - threadIdOfItem(a) : a.dataset.rank - b.dataset.rank;
      });
      for (var j = 0; j < items.length; j++) lists[i].appendChild(items[j]);
    }
    var buttons = section.querySelectorAll("button[data-order]");
    for (var k = 0; k < buttons.length; k++) {
      buttons[k].setAttribute("aria-pressed", String(buttons[k].dataset.order === order));
    }
  }

  function offerOrders() {
    var choices = document.querySelectorAll("section.thread-section .order[hidden]");
    for (var i = 0; i < choices.length; i++) {
      var lists = choices[i].parentNode.querySelectorAll("ol.threads, ol.replies");
      for (var j = 0; j < lists.length; j++) {
        for (var k = 0; k < lists[j].children.length; k++) lists[j].children[k].dataset.rank = k;
      }
      choices[i].hidden = false;
    }
  }

  function onClick(event) {
    var order = event.target.closest && event.target.closest("button[data-order]");
    if (order) {
      orderSection(order.closest("section.thread-section"), order.dataset.order);
      return;
    }
    var edit = event.target.closest && event.target.closest("button.edit[data-edit]");
    if (edit) {
      openEdit(edit);
      return;
    }
    var link = event.target.closest && event.target.closest("a.reply[data-reply]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (!document.getElementById("reply-template")) return;
    event.preventDefault();
    openReply(link);
  }

  /* ---------- A page reached by the no-script redirect ---------- */

  // What the page shows that a write can change, in the shape of its JSON twin.
  function shown() {
    if (document.querySelector("article.project")) {
      var tags = Array.prototype.map.call(document.querySelectorAll("#tags ul.tags a"), function (a) {
        return a.textContent.trim();
      });
      var threads = Array.prototype.map.call(document.querySelectorAll("article.thread"), function (article) {
        var form = article.querySelector("form.vote");
        var edited = article.querySelector(".meta .edited time");
        return {
          thread_id: Number(article.id.replace("thread-", "")),
          up_vote: form ? countOf(form.querySelector("button.up")) : 0,
          down_vote: form ? countOf(form.querySelector("button.down")) : 0,
          edited_at: edited ? edited.getAttribute("datetime") : ""
        };
      });
      return { tags: tags, threads: threads };
    }
    var projects = Array.prototype.map.call(document.querySelectorAll(".card h2 a"), function (a) {
      var m = /\/projects\/(\d+)\//.exec(a.getAttribute("href") || "");
      return { project_id: m ? Number(m[1]) : 0 };
    });
    return { projects: projects };
  }

  function signature(data) {
    if (data.threads) {
      var threads = data.threads.map(function (t) {
        return t.thread_id + ":" + t.up_vote + ":" + t.down_vote + ":" + (t.edited_at || "");
      });
      return "d|" + (data.tags || []).slice().sort().join(",") + "|" + threads.sort().join(",");
    }
    return "l|" + (data.projects || []).map(function (p) { return p.project_id; }).join(",");
  }

  // A page reached by the no-script redirect is rendered from the data, so it already shows
  // the write; it says so once the published page (its JSON twin) has caught up.
  async function awaitPending() {
    var params = new URLSearchParams(location.search);
    if (params.get("published") !== "pending") return;
    params.delete("published");
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
    var url = twinUrl();
    if (!url) return;
    say("Publishing your change…");
    var m = /^#thread-(\d+)$/.exec(location.hash);
    var want = m ? Number(m[1]) : 0;
    var page = shown();
    var seen = signature(page);
    // The thread as the page (rendered from the data) shows it: new, or just edited.
    var wanted = (page.threads || []).filter(function (t) { return t.thread_id === want; })[0];
    var quietEnd = Date.now() + QUIET_MS;
    var answer = await until(url, function (a) {
      if (!a.stored) return false;
      if (want) {
        return (a.body.threads || []).some(function (t) {
          return t.thread_id === want && (!wanted || (t.edited_at || "") === wanted.edited_at);
        });
      }
      return signature(a.body) === seen || Date.now() > quietEnd;
    });
    if (!answer) {
      say("Your change is saved; it will be published in a moment.", { fade: 5000 });
    } else if (want || signature(answer.body) === seen) {
      say("Your change is published.", { fade: 4000 });
    } else {
      // Something newer than what the page shows was published meanwhile.
      showPublished(null, true, location.hash);
    }
  }

  /* ---------- Start ---------- */

  // Takes the writer's `fresh` marker out of the address once the page is shown.
  function tidyAddress() {
    var params = new URLSearchParams(location.search);
    if (!params.has("fresh")) return;
    params.delete("fresh");
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
  }

  function start() {
    tidyAddress();
    updateTimes();
    var forms = document.querySelectorAll('form[data-form="vote"]');
    for (var i = 0; i < forms.length; i++) {
      var pressed = votes.get(threadIdOf(forms[i]));
      var up = forms[i].querySelector("button.up");
      if (up && countOf(up) !== null) {
        showVotes(forms[i], { up: countOf(up), down: countOf(forms[i].querySelector("button.down")) }, pressed);
      }
    }
    offerEdits();
    offerOrders();
    document.addEventListener("submit", onSubmit);
    document.addEventListener("click", onClick);
    awaitPending();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
