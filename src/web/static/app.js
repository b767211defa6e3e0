// The web app's behaviour on top of the server-rendered screens (docs/WEB.md). Everything here
// calls the public client API with the session cookie and the page's CSRF token; each screen
// still reads without JavaScript.

const body = document.body;
const csrf = body.dataset.csrf || "";
const me = body.dataset.me || "";

// ---- API ------------------------------------------------------------------------------------

/** Calls the client API; resolves to the JSON answer, rejects with the `error` message. */
async function api(method, path, payload, extra) {
  const headers = { "X-CSRF-Token": csrf, "Accept": "application/json", ...extra };
  const init = { method, headers, credentials: "same-origin" };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    location.href = "/auth/sign_in?next=" + encodeURIComponent(location.pathname + location.search);
    throw new Error("Sign in again");
  }
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

function toast(text) {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 3500);
}

/** A random key (`crypto.randomUUID` needs a secure context; plain-http LAN instances are not). */
function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function needSignIn() {
  location.href = "/auth/sign_in?next=" + encodeURIComponent(location.pathname + location.search);
}

/** Server-rendered HTML (our own fragments) as nodes. */
function nodes(html) {
  return document.createRange().createContextualFragment(html);
}

async function fragment(url) {
  const sep = url.includes("?") ? "&" : "?";
  const res = await fetch(url + sep + "fragment=1", { credentials: "same-origin" });
  // An ended session is sent to sign in: go there rather than show the form inside the list.
  if (res.redirected && new URL(res.url).pathname === "/auth/sign_in") {
    needSignIn();
    throw new Error("Sign in again");
  }
  if (!res.ok) throw new Error(res.statusText);
  return res.text();
}

// ---- Post actions ---------------------------------------------------------------------------

const TOGGLES = {
  favourite: ["favourite", "unfavourite", "favourites_count"],
  reblog: ["reblog", "unreblog", "reblogs_count"],
  bookmark: ["bookmark", "unbookmark", null],
};

function updateCounts(status) {
  const s = status.reblog && status.reblog.id ? status.reblog : status;
  for (const article of document.querySelectorAll(`.status[data-id="${s.id}"]`)) {
    for (const [action, [, , field]] of Object.entries(TOGGLES)) {
      const b = article.querySelector(`[data-action=${action}]`);
      if (!b) continue;
      const pressed = { favourite: s.favourited, reblog: s.reblogged, bookmark: s.bookmarked }[action];
      if (pressed !== undefined) b.setAttribute("aria-pressed", String(!!pressed));
      const n = b.querySelector(".n");
      if (field && n) n.textContent = s[field];
    }
  }
}

async function toggle(button, article, action) {
  const [on, off] = TOGGLES[action];
  const pressed = button.getAttribute("aria-pressed") === "true";
  button.disabled = true;
  try {
    const s = await api("POST", `/api/v1/statuses/${article.dataset.id}/${pressed ? off : on}`);
    // Unreblog answers the original; reblog answers the boost wrapping it.
    if (action === "reblog" && !pressed && s.reblog) s.reblog.reblogged = true;
    updateCounts(s);
  } catch (e) {
    toast(e.message);
  } finally {
    button.disabled = false;
  }
}

async function remove(article) {
  if (!confirm("Delete this post?")) return;
  try {
    await api("DELETE", `/api/v1/statuses/${article.dataset.id}`);
    for (const a of document.querySelectorAll(`.status[data-id="${article.dataset.id}"]`)) a.remove();
    toast("Deleted");
  } catch (e) {
    toast(e.message);
  }
}

async function edit(article) {
  if (article.querySelector("form.edit")) return;
  let source;
  try {
    source = await api("GET", `/api/v1/statuses/${article.dataset.id}/source`);
  } catch (e) {
    toast(e.message);
    return;
  }
  const content = article.querySelector(".content");
  const form = document.createElement("form");
  form.className = "edit card";
  const label = document.createElement("label");
  label.textContent = "Edit post";
  label.htmlFor = "edit-" + article.dataset.id;
  const area = document.createElement("textarea");
  area.id = label.htmlFor;
  area.value = source.text;
  area.rows = 4;
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "ghost";
  cancel.textContent = "Cancel";
  form.append(label, area, save, cancel);
  content.after(form);
  area.focus();
  cancel.addEventListener("click", () => form.remove());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    try {
      const body = { status: area.value, spoiler_text: source.spoiler_text };
      // An edit without its poll would remove it (Mastodon's rule): send it again, unchanged.
      if (article.querySelector("form.poll")) {
        const { poll } = await api("GET", `/api/v1/statuses/${article.dataset.id}`);
        if (poll) {
          body.poll = { options: poll.options.map((o) => o.title), expires_in: 300, multiple: poll.multiple };
        }
      }
      const s = await api("PUT", `/api/v1/statuses/${article.dataset.id}`, body);
      // Our own server's sanitised HTML.
      content.replaceChildren(nodes(s.content));
      form.remove();
      toast("Saved");
    } catch (e) {
      toast(e.message);
      save.disabled = false;
    }
  });
}

document.addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-action]");
  if (!button) return;
  const article = button.closest(".status");
  if (!article) return;
  if (!me) return needSignIn();
  const action = button.dataset.action;
  if (action in TOGGLES) toggle(button, article, action);
  else if (action === "delete") remove(article);
  else if (action === "edit") edit(article);
  else if (action === "quote") quote(article, button.dataset.quoteOf);
});

/** Quotes a post: the compose box of this page (not a reply box) takes it, else Home's does. */
function quote(article, who) {
  sessionStorage.setItem("quote", JSON.stringify({ id: article.dataset.id, who }));
  const form = [...document.querySelectorAll("form.compose")].find(
    (f) => !f.querySelector("input[name=in_reply_to_id]").value,
  );
  if (form) takeQuote(form);
  else location.href = "/home";
}

/** Shows the quote waiting in this tab's storage on `form`, which then posts it. */
function takeQuote(form) {
  const pending = sessionStorage.getItem("quote");
  const field = form.querySelector("input[name=quoted_status_id]");
  if (!pending || !field || form.querySelector("input[name=in_reply_to_id]").value) return;
  sessionStorage.removeItem("quote");
  const { id, who } = JSON.parse(pending);
  field.value = id;
  const chip = form.querySelector(".quoting");
  chip.querySelector("span").textContent = `Quoting ${who}`;
  chip.hidden = false;
  form.querySelector("textarea").focus();
}

// ---- Polls ----------------------------------------------------------------------------------

/** Shows a poll's results (the `Poll` the vote answered) in place of its vote form. */
function showPollResults(form, poll) {
  const list = form.querySelector("ul");
  list.replaceChildren();
  const total = poll.votes_count || 0;
  poll.options.forEach((o, i) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.className = "option" + (poll.own_votes?.includes(i) ? " own" : "");
    const share = o.votes_count === null ? null : total ? Math.round((o.votes_count * 100) / total) : 0;
    if (share !== null) {
      const strong = document.createElement("strong");
      strong.textContent = `${share}%`;
      label.append(strong, " ");
    }
    label.append(o.title);
    if (poll.own_votes?.includes(i)) label.append(" ✓");
    li.append(label);
    if (share !== null) {
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = share;
      li.append(bar);
    }
    list.append(li);
  });
  form.querySelector("button[type=submit]")?.remove();
  const people = poll.voters_count ?? poll.votes_count;
  form.querySelector(".poll-summary").textContent =
    `${people} ${people === 1 ? "person" : "people"} · ${poll.expired ? "closed" : "voted"}`;
}

document.addEventListener("submit", async (ev) => {
  const form = ev.target.closest("form.poll");
  if (!form) return;
  ev.preventDefault();
  if (!me) return needSignIn();
  const choices = [...form.querySelectorAll("input[name=choice]:checked")].map((i) => Number(i.value));
  if (!choices.length) return toast("Choose an option first");
  try {
    showPollResults(form, await api("POST", `/api/v1/polls/${form.dataset.poll}/votes`, { choices }));
  } catch (e) {
    toast(e.message);
  }
});

// ---- Compose --------------------------------------------------------------------------------

/** Uploads a file to `/api/v2/media` with progress; resolves to the attachment once processed. */
function upload(file, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v2/media");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = async () => {
      let json = {};
      try { json = JSON.parse(xhr.responseText || "{}"); } catch (_) { /* not JSON */ }
      if (xhr.status >= 300) return reject(new Error(json.error || "Upload failed"));
      // Videos are transcoded after the upload: wait until the file is ready.
      for (let i = 0; !json.url && i < 240; i++) {
        await new Promise((r) => setTimeout(r, 500));
        json = await api("GET", `/api/v1/media/${json.id}`);
      }
      json.url ? resolve(json) : reject(new Error("Processing the file took too long"));
    };
    xhr.onerror = () => reject(new Error("Upload failed"));
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

/**
 * Uploads each file picked in `input` at once (progress on `bar`), listing it in `list` with a
 * Remove button and, when `withAlt`, a preview and an alt text field. Each entry of `entries`
 * is `{ li, alt?, ready }`, `ready` resolving to the processed attachment; at most four.
 */
function pickUploads(input, list, bar, entries, withAlt) {
  input.addEventListener("change", () => {
    for (const file of input.files) {
      if (entries.length >= 4) { toast("At most 4 attachments"); break; }
      const li = document.createElement("li");
      const entry = { li };
      if (withAlt) {
        const preview = document.createElement(file.type.startsWith("video") ? "video" : "img");
        preview.src = URL.createObjectURL(file);
        preview.alt = "";
        const alt = document.createElement("input");
        alt.type = "text";
        alt.placeholder = "Describe it for people who cannot see it";
        alt.setAttribute("aria-label", "Alt text for " + file.name);
        alt.maxLength = 1500;
        li.append(preview, alt);
        entry.alt = alt;
      } else {
        li.append(file.name + " ");
      }
      const drop = document.createElement("button");
      drop.type = "button";
      drop.className = "ghost small";
      drop.textContent = "Remove";
      li.append(drop);
      list.append(li);
      const forget = () => { li.remove(); if (entries.includes(entry)) entries.splice(entries.indexOf(entry), 1); };
      bar.hidden = false;
      entry.ready = upload(file, (n) => { bar.value = n; });
      entry.ready.catch((e) => { toast(e.message); forget(); });
      drop.addEventListener("click", forget);
      entries.push(entry);
    }
    input.value = "";
  });
}

function setUpCompose(form) {
  const area = form.querySelector("textarea");
  const count = form.querySelector(".count");
  const cwField = form.querySelector(".cw-field");
  const cwToggle = form.querySelector("[data-toggle=cw]");
  const files = form.querySelector("input[type=file]");
  const list = form.querySelector(".attachments");
  const bar = form.querySelector("progress");
  const error = form.querySelector(".error");
  const submit = form.querySelector("button[type=submit]");
  const attachments = []; // { id, alt input, ready promise }
  // One key per draft: a retry after a lost answer does not post twice.
  let idempotencyKey = newKey();
  const max = Number(area.getAttribute("maxlength")) || 5000;
  const recount = () => { count.textContent = String(max - area.value.length); };
  area.addEventListener("input", recount);
  cwToggle.addEventListener("click", () => {
    const on = cwField.hidden;
    cwField.hidden = !on;
    cwToggle.setAttribute("aria-pressed", String(on));
    if (on) cwField.querySelector("input").focus();
  });
  pickUploads(files, list, bar, attachments, true);
  // Poll and "Later" (a scheduled post): shown by their buttons, sent only while shown.
  const pollField = form.querySelector(".poll-field");
  const scheduleField = form.querySelector(".schedule-field");
  for (const [name, field] of [["poll", pollField], ["schedule", scheduleField]]) {
    form.querySelector(`[data-toggle=${name}]`)?.addEventListener("click", (ev) => {
      field.hidden = !field.hidden;
      ev.currentTarget.setAttribute("aria-pressed", String(!field.hidden));
      if (!field.hidden) field.querySelector("input").focus();
    });
  }
  const quoting = form.querySelector(".quoting");
  const unquote = () => {
    form.querySelector("input[name=quoted_status_id]").value = "";
    quoting.hidden = true;
  };
  quoting?.querySelector("[data-unquote]").addEventListener("click", unquote);
  takeQuote(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const media = await Promise.all(attachments.map((a) => a.ready));
      for (const [i, m] of media.entries()) {
        const alt = attachments[i].alt.value.trim();
        if (alt) await api("PUT", `/api/v1/media/${m.id}`, { description: alt });
      }
      const payload = {
        status: area.value,
        visibility: form.querySelector("select[name=visibility]").value,
        media_ids: media.map((m) => m.id),
      };
      const cw = cwField.querySelector("input").value.trim();
      if (!cwField.hidden && cw) payload.spoiler_text = cw;
      const replyTo = form.querySelector("input[name=in_reply_to_id]").value;
      if (replyTo) payload.in_reply_to_id = replyTo;
      const quoted = form.querySelector("input[name=quoted_status_id]")?.value;
      if (quoted) payload.quoted_status_id = quoted;
      if (pollField && !pollField.hidden) {
        payload.poll = {
          options: [...pollField.querySelectorAll("input[name=poll_option]")]
            .map((i) => i.value.trim())
            .filter(Boolean),
          expires_in: Number(pollField.querySelector("select").value),
          multiple: pollField.querySelector("input[name=poll_multiple]").checked,
        };
      }
      const at = scheduleField && !scheduleField.hidden && scheduleField.querySelector("input").value;
      if (at) payload.scheduled_at = new Date(at).toISOString();
      const made = await api("POST", "/api/v1/statuses", payload, { "Idempotency-Key": idempotencyKey });
      idempotencyKey = newKey();
      form.reset();
      if (quoting) unquote();
      for (const field of [pollField, scheduleField]) if (field) field.hidden = true;
      form.querySelectorAll("[data-toggle=poll], [data-toggle=schedule]").forEach((b) => b.setAttribute("aria-pressed", "false"));
      list.replaceChildren();
      attachments.length = 0;
      bar.hidden = true;
      recount();
      if (replyTo) location.reload();
      else if (made.scheduled_at) toast(`Scheduled for ${new Date(made.scheduled_at).toLocaleString()}`);
      else { toast("Posted"); showNew(); }
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}

for (const form of document.querySelectorAll("form.compose")) setUpCompose(form);
if (location.hash === "#reply") document.querySelector("#reply textarea")?.focus();

// ---- Infinite scroll ------------------------------------------------------------------------

const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (entry.isIntersecting) loadMore(entry.target);
  }
}, { rootMargin: "800px" });

async function loadMore(link) {
  if (link.dataset.loading) return;
  link.dataset.loading = "1";
  observer.unobserve(link);
  try {
    const html = await fragment(link.getAttribute("href"));
    const parent = link.parentNode;
    const frag = nodes(html);
    const next = frag.querySelector("a.more");
    link.replaceWith(frag);
    if (next && parent) observer.observe(next);
  } catch (e) {
    delete link.dataset.loading;
    toast("Could not load more: " + e.message);
  }
}

for (const link of document.querySelectorAll("a.more")) observer.observe(link);

// ---- Live updates ---------------------------------------------------------------------------

// The element whose stream the page follows (a feed, the notifications, a chat or the chat list),
// and the list the "new posts" bar fills (feeds only).
const streamed = document.querySelector("[data-stream]");
const feed = document.querySelector(".feed[data-stream]");
const newBar = document.getElementById("new-posts");
let pending = 0;
/** Handlers the Messages screens add for direct-stream events. */
const hooks = {};
/** The open streaming WebSocket, if any (the chat sends typing over it). */
let socket = null;

/** Shows the posts that arrived after the newest shown (Home and the local feed). */
async function showNew() {
  if (!feed) { location.reload(); return; }
  const since = feed.dataset.since;
  if (!since || pending > 40) { location.reload(); return; }
  try {
    const html = await fragment(`${location.pathname}?since_id=${since}`);
    const frag = nodes(html);
    const first = frag.querySelector(".status");
    if (first) feed.dataset.since = first.dataset.entry;
    for (const a of frag.querySelectorAll(".status")) {
      document.getElementById(a.id)?.remove();
    }
    feed.prepend(frag);
    feed.querySelector(".empty")?.remove();
  } catch (e) {
    toast(e.message);
  }
  pending = 0;
  if (newBar) newBar.hidden = true;
}

newBar?.addEventListener("click", showNew);

function bump(label) {
  pending += 1;
  if (!newBar) return;
  newBar.textContent = `Show ${pending} new ${label}${pending === 1 ? "" : "s"}`;
  newBar.hidden = false;
}

function badge(delta) {
  let b = document.getElementById("unread");
  if (!b) {
    const link = document.querySelector('.nav a[href="/notifications"]');
    if (!link) return;
    b = document.createElement("b");
    b.className = "badge";
    b.id = "unread";
    b.textContent = "0";
    link.append(b);
  }
  b.textContent = String(Number(b.textContent) + delta);
}

function parse(payload) {
  try { return typeof payload === "string" ? JSON.parse(payload) : payload; } catch (_) { return null; }
}

let wasConnected = false;

// Other scripts of the page (calls.js) send over the socket: `detail.sent` says whether it was open.
document.addEventListener("rookery:send", (e) => {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(e.detail.message));
    e.detail.sent = true;
  }
});

function connect(attempt) {
  const streams = [];
  const wanted = streamed ? streamed.dataset.stream : "";
  if (me) streams.push({ stream: "user" });
  if (wanted && !wanted.startsWith("user")) streams.push({ stream: wanted, tag: streamed.dataset.tag });
  if (!streams.length) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/v1/streaming`);
  ws.onopen = () => {
    attempt = 0;
    socket = ws;
    body.dataset.live = "on";
    for (const s of streams) ws.send(JSON.stringify({ type: "subscribe", ...s }));
    // A reconnection may have missed events: the catch-up fetches ask for everything after the
    // newest shown, so nothing is lost or doubled.
    if (wasConnected) {
      if (feed && feed.dataset.since) bump("post");
      hooks.reconnected?.();
    }
    wasConnected = true;
  };
  ws.onmessage = (msg) => {
    const ev = parse(msg.data);
    if (!ev || !ev.event) return;
    const kind = ev.event;
    const stream = (ev.stream || [])[0];
    if (kind === "notification") {
      badge(1);
      if (wanted === "user:notification") bump("notification");
    } else if (kind === "update" && feed && stream === wanted) {
      // One's own post, or one the bar's fetch already brought, is shown: no bar for it.
      const s = parse(ev.payload);
      if (!s || !document.querySelector(`.status[data-entry="${s.id}"]`)) bump("post");
    } else if (kind === "delete") {
      for (const a of document.querySelectorAll(`.status[data-id="${ev.payload}"]`)) a.remove();
    } else if (kind === "status.update") {
      const s = parse(ev.payload);
      if (s) updateCounts(s);
    } else if (kind === "conversation") {
      hooks.conversation?.(parse(ev.payload));
    } else if (kind === "rookery.typing") {
      hooks.typing?.(parse(ev.payload));
    } else if (kind === "rookery.presence") {
      const p = parse(ev.payload);
      if (p) presence(p.account_id, p.online);
      if (p && "custom_status" in p) {
        for (const el of document.querySelectorAll(`[data-custom-status="${p.account_id}"]`)) {
          const c = p.custom_status;
          el.textContent = c ? `${c.emoji} ${c.text}`.trim() : "";
        }
      }
    } else if (kind === "rookery.receipt") {
      hooks.receipt?.(parse(ev.payload));
    } else if (kind.startsWith("rookery.room.")) {
      hooks.room?.(kind, parse(ev.payload));
    } else if (kind.startsWith("rookery.call")) {
      // Calls live in calls.js.
      document.dispatchEvent(new CustomEvent("rookery:stream", { detail: { event: kind, payload: parse(ev.payload) } }));
    }
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    // Shown as "Reconnecting…" until the next connection catches up.
    if (wasConnected) body.dataset.live = "off";
    const wait = Math.min(30000, 1000 * 2 ** attempt) + Math.random() * 500;
    setTimeout(() => connect(attempt + 1), wait);
  };
}

/** Shows `account` online or not wherever its presence dot is. */
function presence(account, online) {
  for (const d of document.querySelectorAll(`[data-presence="${account}"]`)) {
    if (online) d.dataset.online = "true";
    else delete d.dataset.online;
  }
  const line = document.getElementById("presence");
  if (line) line.textContent = document.querySelector(".chat-head [data-online=true]") ? "online" : "offline";
}

// ---- Messages -------------------------------------------------------------------------------

const ORDER = { sent: 0, delivered: 1, seen: 2 };

/** Moves a message's ticks forward (never back) to `state`. */
function setTicks(bubble, state) {
  if (ORDER[state] <= ORDER[bubble.dataset.state || "sent"]) return;
  bubble.dataset.state = state;
  const t = bubble.querySelector(".ticks");
  if (!t) return;
  t.textContent = state === "sent" ? "✓" : "✓✓";
  t.title = state;
  t.setAttribute("aria-label", state);
}

/** Appends the bubbles of `html` (a fragment of `app/bubbles.html`) to `list`, dropping any
 * already shown and a day line that repeats the last one; returns the bubbles appended. */
function appendBubbles(list, html) {
  const frag = nodes(html);
  for (const li of frag.querySelectorAll(".bubble")) document.getElementById(li.id)?.remove();
  const firstDay = frag.querySelector(".day");
  const days = list.querySelectorAll(".day");
  if (firstDay && days.length && days[days.length - 1].textContent === firstDay.textContent) firstDay.remove();
  const bubbles = frag.querySelectorAll(".bubble");
  list.append(frag);
  return bubbles;
}

function setUpChat(chat) {
  const id = chat.dataset.conversation;
  const list = document.getElementById("bubbles");
  const form = document.getElementById("chat-compose");
  const area = document.getElementById("chat-text");
  const typingLine = document.getElementById("typing");
  const files = document.getElementById("chat-media");
  const attachments = form.querySelector(".attachments");
  const bar = form.querySelector("progress");
  const names = {};
  for (const f of chat.querySelectorAll(".face[data-account]")) names[f.dataset.account] = f.dataset.name;
  const uploads = [];
  let typingTimer = 0;
  let lastTyping = 0;
  let idempotencyKey = newKey();

  const toBottom = () => window.scrollTo(0, document.body.scrollHeight);
  toBottom();

  async function markRead() {
    if (document.visibilityState !== "visible") return;
    try { await api("POST", `/api/v1/conversations/${id}/read`); } catch (_) { /* shown as unread */ }
  }
  markRead();
  document.addEventListener("visibilitychange", markRead);

  async function catchUp() {
    const since = chat.dataset.since;
    let html;
    try {
      html = await fragment(since ? `/messages/${id}?since_id=${since}` : `/messages/${id}`);
    } catch (e) {
      toast(e.message);
      return;
    }
    const bubbles = appendBubbles(list, html);
    if (bubbles.length) {
      chat.dataset.since = bubbles[bubbles.length - 1].dataset.id;
      chat.dataset.last = chat.dataset.since;
    }
    toBottom();
    if (bubbles.length) {
      typingLine.textContent = "";
      markRead();
    }
  }

  hooks.conversation = (c) => { if (c && c.id === id) catchUp(); };
  hooks.reconnected = catchUp;
  hooks.typing = (p) => {
    if (!p || p.conversation_id !== id) return;
    typingLine.textContent = `${names[p.account_id] || "Someone"} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingLine.textContent = ""; }, 6000);
  };
  hooks.receipt = async (p) => {
    if (!p) return;
    const mine = [...list.querySelectorAll(".bubble.mine")]
      .filter((b) => BigInt(b.dataset.id) <= BigInt(p.status_id) && b.dataset.state !== "seen");
    if (!mine.length) return;
    try {
      const receipts = await api("GET", `/api/v1/statuses/${mine[mine.length - 1].dataset.id}/receipts`);
      const least = receipts.reduce((m, r) => (ORDER[r.state] < ORDER[m] ? r.state : m), "seen");
      for (const b of mine) setTicks(b, least);
    } catch (_) { /* the ticks stay */ }
  };

  area.addEventListener("input", () => {
    if (Date.now() - lastTyping > 3000 && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "typing", conversation_id: id }));
      lastTyping = Date.now();
    }
  });
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  pickUploads(files, attachments, bar, uploads, false);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = area.value.trim();
    if (!text && !uploads.length) return;
    const send = form.querySelector("button[type=submit]");
    send.disabled = true;
    try {
      const media = await Promise.all(uploads.map((u) => u.ready));
      await api("POST", "/api/v1/statuses", {
        status: text,
        visibility: "direct",
        in_reply_to_id: chat.dataset.last,
        media_ids: media.map((m) => m.id),
      }, { "Idempotency-Key": idempotencyKey });
      idempotencyKey = newKey();
      area.value = "";
      attachments.replaceChildren();
      uploads.length = 0;
      bar.hidden = true;
      await catchUp();
    } catch (e) {
      toast(e.message);
    } finally {
      send.disabled = false;
      area.focus();
    }
  });
}

/** The chat's menu: mute or unmute its notifications, add people, leave. */
function setUpChatMenu(chat) {
  const id = chat.dataset.conversation;
  chat.querySelector(".chat-menu")?.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-chat]");
    if (!b) return;
    const action = b.dataset.chat;
    try {
      if (action === "leave") {
        if (!confirm("Leave this chat? It leaves your list and stops notifying you; a new message brings it back, muted.")) return;
        await api("POST", `/api/v1/statuses/${chat.dataset.last}/mute`);
        await api("DELETE", `/api/v1/conversations/${id}`);
        location.href = "/messages";
        return;
      }
      await api("POST", `/api/v1/statuses/${chat.dataset.last}/${action}`);
      b.dataset.chat = action === "mute" ? "unmute" : "mute";
      b.textContent = action === "mute" ? "Unmute notifications" : "Mute notifications";
      toast(action === "mute" ? "Muted" : "Unmuted");
    } catch (e) {
      toast(e.message);
    }
  });
  const add = document.getElementById("chat-add");
  add?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const who = add.querySelector("input").value.split(/[,\s]+/).map((h) => h.trim().replace(/^@/, "")).filter(Boolean);
    if (!who.length) return;
    try {
      // A reply keeps everyone in the chat; the message names the newcomers, which adds them.
      await api("POST", "/api/v1/statuses", {
        status: `Added ${who.map((h) => "@" + h).join(", ")} to the chat`,
        visibility: "direct",
        in_reply_to_id: chat.dataset.last,
      }, { "Idempotency-Key": newKey() });
      add.querySelector("input").value = "";
      add.closest("details").open = false;
      hooks.conversation?.({ id });
    } catch (e) {
      toast(e.message);
    }
  });
}

const chatView = document.getElementById("chat");
if (chatView) setUpChatMenu(chatView);
if (chatView) setUpChat(chatView);

// The chat list: a new message reorders it.
if (document.getElementById("chats")) {
  hooks.conversation = () => {
    const draft = document.getElementById("new-chat");
    if (!draft || !draft.closest("details").open) location.reload();
  };
}

// ---- Rooms ----------------------------------------------------------------------------------

/** One room's screen: bubbles, live messages and deletions, sending, inviting, leaving. */
function setUpRoom(room) {
  const id = room.dataset.room;
  const list = document.getElementById("bubbles");
  const form = document.getElementById("room-compose");
  const area = document.getElementById("room-text");
  const toBottom = () => window.scrollTo(0, document.body.scrollHeight);
  toBottom();

  async function markRead() {
    if (document.visibilityState !== "visible") return;
    try { await api("POST", `/api/v1/rooms/${id}/read`); } catch (_) { /* shown as unread */ }
  }
  markRead();
  document.addEventListener("visibilitychange", markRead);

  // One catch-up at a time, so a message is never appended twice.
  let running = Promise.resolve();
  function catchUp() {
    running = running.then(async () => {
      const since = room.dataset.since;
      let html;
      try {
        html = await fragment(since ? `/messages/rooms/${id}?since_id=${since}` : `/messages/rooms/${id}`);
      } catch (e) {
        toast(e.message);
        return;
      }
      const bubbles = appendBubbles(list, html);
      if (bubbles.length) room.dataset.since = bubbles[bubbles.length - 1].dataset.id;
      toBottom();
      if (bubbles.length) markRead();
    });
    return running;
  }

  hooks.reconnected = catchUp;
  hooks.room = (kind, p) => {
    if (!p || p.room_id !== id) return;
    if (kind === "rookery.room.message") catchUp();
    else if (kind === "rookery.room.message.delete") document.getElementById(`m-${p.id}`)?.remove();
    else if (kind === "rookery.room.removed") location.href = "/messages";
    else if (kind === "rookery.room.update") toast("The room changed: reload to see it");
  };

  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = area.value.trim();
    if (!text) return;
    const send = form.querySelector("button[type=submit]");
    send.disabled = true;
    try {
      await api("POST", `/api/v1/rooms/${id}/messages`, { text });
      area.value = "";
      await catchUp();
    } catch (e) {
      toast(e.message);
    } finally {
      send.disabled = false;
      area.focus();
    }
  });
  room.querySelector("[data-room-action=leave]")?.addEventListener("click", async () => {
    if (!confirm("Leave this room? You will see none of its messages any more.")) return;
    try {
      await api("POST", `/api/v1/rooms/${id}/leave`);
      location.href = "/messages";
    } catch (e) {
      toast(e.message);
    }
  });
  const invite = document.getElementById("room-invite");
  invite?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = invite.querySelector("input");
    const who = input.value.split(/[,\s]+/).map((h) => h.trim()).filter(Boolean);
    try {
      for (const acct of who) await api("POST", `/api/v1/rooms/${id}/invitations`, { acct });
      input.value = "";
      toast(who.length === 1 ? "Invited" : `Invited ${who.length} people`);
    } catch (e) {
      toast(e.message);
    }
  });
}

const roomView = document.getElementById("room");
if (roomView) setUpRoom(roomView);

// The rooms list: answers to invitations; anything about a room refreshes the list, unless a
// form is open or an answer is on its way (its own event must not reload the page under it).
let answering = false;
document.getElementById("rooms")?.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-room-answer]");
  if (!b) return;
  const id = b.closest("[data-room]").dataset.room;
  answering = true;
  try {
    await api("POST", `/api/v1/rooms/${id}/${b.dataset.roomAnswer}`);
    location.href = b.dataset.roomAnswer === "accept" ? `/messages/rooms/${id}` : "/messages";
  } catch (e) {
    answering = false;
    toast(e.message);
  }
});
if (document.getElementById("chats")) {
  hooks.room = () => {
    const open = [...document.querySelectorAll("#new-chat, #new-room")].some((f) => f.closest("details").open);
    if (!open && !answering) location.reload();
  };
}

const newRoom = document.getElementById("new-room");
newRoom?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = newRoom.querySelector(".error");
  error.hidden = true;
  const invite = newRoom.elements.invite.value.split(/[,\s]+/).map((h) => h.trim()).filter(Boolean);
  try {
    const r = await api("POST", "/api/v1/rooms", { name: newRoom.elements.name.value, invite });
    location.href = `/messages/rooms/${r.id}`;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
});

const newChat = document.getElementById("new-chat");
newChat?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = newChat.querySelector(".error");
  error.hidden = true;
  const to = newChat.elements.to.value.split(/[,\s]+/).map((h) => h.trim().replace(/^@/, "")).filter(Boolean);
  if (!to.length) return;
  const text = to.map((h) => "@" + h).join(" ") + " " + newChat.elements.text.value;
  try {
    const s = await api("POST", "/api/v1/statuses", { status: text, visibility: "direct" }, { "Idempotency-Key": newKey() });
    const chats = await api("GET", "/api/v1/conversations?limit=10");
    const c = chats.find((x) => x.last_status && x.last_status.id === s.id);
    location.href = c ? `/messages/${c.id}` : "/messages";
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
});

// ---- Settings -------------------------------------------------------------------------------

/** Sends a multipart form to the API (the profile form with its images). */
async function apiForm(method, path, form) {
  const res = await fetch(path, { method, body: form, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

const profileForm = document.getElementById("profile-form");
profileForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = profileForm.querySelector(".error");
  error.hidden = true;
  const data = new FormData(profileForm);
  for (const name of ["avatar", "header"]) {
    const f = data.get(name);
    if (f && !f.size) data.delete(name);
  }
  // Unchecked boxes send nothing: say false.
  for (const box of profileForm.querySelectorAll("input[type=checkbox]")) data.set(box.name, box.checked ? "true" : "false");
  try {
    const account = await apiForm("PATCH", "/api/v1/accounts/update_credentials", data);
    // Show the new pictures in place; the file fields are done with.
    profileForm.querySelector(".avatar").src = account.avatar;
    profileForm.querySelector(".header-preview").src = account.header;
    for (const name of ["avatar", "header"]) profileForm.elements[name].value = "";
    toast("Profile saved");
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
});

const statusForm = document.getElementById("custom-status-form");
statusForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const expires = statusForm.elements.expires_in.value;
  const body = { text: statusForm.elements.text.value, emoji: statusForm.elements.emoji.value };
  if (expires) body.expires_in = Number(expires);
  try {
    await api("PUT", "/api/v1/presence/status", body);
    toast("Status set");
  } catch (e) {
    toast(e.message);
  }
});
document.getElementById("cs-clear")?.addEventListener("click", async () => {
  try {
    await api("DELETE", "/api/v1/presence/status");
    statusForm.reset();
    statusForm.elements.text.value = "";
    statusForm.elements.emoji.value = "";
    toast("Status cleared");
  } catch (e) {
    toast(e.message);
  }
});

document.getElementById("followed-tags")?.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-unfollow-tag]");
  if (!b) return;
  try {
    await api("POST", `/api/v1/tags/${encodeURIComponent(b.dataset.unfollowTag)}/unfollow`);
    b.closest("li").remove();
  } catch (e) {
    toast(e.message);
  }
});

document.querySelector("[data-tag-follow]")?.addEventListener("click", async (ev) => {
  const b = ev.currentTarget;
  const on = b.dataset.following !== "true";
  try {
    await api("POST", `/api/v1/tags/${encodeURIComponent(b.dataset.tagFollow)}/${on ? "follow" : "unfollow"}`);
    b.dataset.following = String(on);
    b.textContent = `${on ? "Unfollow" : "Follow"} #${b.dataset.tagFollow}`;
    b.className = on ? "ghost" : "primary";
  } catch (e) {
    toast(e.message);
  }
});

const filterForm = document.getElementById("filter-new");
filterForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const words = filterForm.elements.words.value.split(",").map((w) => w.trim()).filter(Boolean);
  const context = [...filterForm.querySelectorAll("input[name=context]:checked")].map((b) => b.value);
  try {
    await api("POST", "/api/v2/filters", {
      title: filterForm.elements.title.value,
      context,
      filter_action: filterForm.elements.filter_action.value,
      keywords_attributes: words.map((keyword) => ({ keyword, whole_word: true })),
    });
    location.hash = "filters";
    location.reload();
  } catch (e) {
    toast(e.message);
  }
});

// Deleting things listed on Settings and Lists: a filter, a list, a list's member.
document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-delete-filter], button[data-delete-list], button[data-remove-member]");
  if (!b) return;
  let path;
  if (b.dataset.deleteFilter) path = `/api/v2/filters/${b.dataset.deleteFilter}`;
  else if (b.dataset.deleteList) {
    if (!confirm("Delete this list?")) return;
    path = `/api/v1/lists/${b.dataset.deleteList}`;
  } else {
    const list = document.getElementById("list-members").dataset.list;
    path = `/api/v1/lists/${list}/accounts?account_ids[]=${b.dataset.removeMember}`;
  }
  try {
    await api("DELETE", path);
    b.closest("li").remove();
  } catch (e) {
    toast(e.message);
  }
});

const listForm = document.getElementById("list-new");
listForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const l = await api("POST", "/api/v1/lists", { title: listForm.elements.title.value });
    location.href = `/lists/${l.id}`;
  } catch (e) {
    toast(e.message);
  }
});

const listAdd = document.getElementById("list-add");
listAdd?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const list = document.getElementById("list-members").dataset.list;
  const who = listAdd.querySelector("input").value.trim().replace(/^@/, "");
  try {
    const found = await api("GET", `/api/v2/search?type=accounts&resolve=true&limit=1&q=${encodeURIComponent(who)}`);
    const account = found.accounts && found.accounts[0];
    if (!account) throw new Error(`No account ${who}`);
    await api("POST", `/api/v1/lists/${list}/accounts`, { account_ids: [account.id] });
    location.reload();
  } catch (e) {
    toast(e.message);
  }
});

const messagingForm = document.getElementById("messaging-form");
messagingForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const prefs = {};
  for (const box of messagingForm.querySelectorAll("input[type=checkbox]")) prefs[box.name] = box.checked;
  try {
    await api("PUT", "/api/v1/messaging/preferences", prefs);
    toast("Saved");
  } catch (e) {
    toast(e.message);
  }
});

const policyForm = document.getElementById("policy-form");
policyForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const policy = {};
  for (const select of policyForm.querySelectorAll("select")) policy[select.name] = select.value;
  try {
    await api("PATCH", "/api/v2/notifications/policy", policy);
    toast("Saved");
  } catch (e) {
    toast(e.message);
  }
});

// Scheduled posts on Settings: times in the browser's zone; Cancel deletes one.
for (const t of document.querySelectorAll("#scheduled time")) {
  t.textContent = new Date(t.getAttribute("datetime")).toLocaleString();
}
document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("[data-cancel-scheduled]");
  if (!b) return;
  b.disabled = true;
  try {
    await api("DELETE", `/api/v1/scheduled_statuses/${b.dataset.cancelScheduled}`);
    b.closest("li").remove();
    toast("Cancelled");
  } catch (e) {
    b.disabled = false;
    toast(e.message);
  }
});

// Notification requests: accept or dismiss one sender's filtered notifications, then reload.
document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("[data-request-action]");
  if (!b) return;
  b.disabled = true;
  try {
    await api("POST", `/api/v1/notifications/requests/${b.dataset.request}/${b.dataset.requestAction}`);
    location.reload();
  } catch (e) {
    b.disabled = false;
    toast(e.message);
  }
});

// ---- Stories and shorts from the browser ------------------------------------------------------

const storyFile = document.getElementById("story-file");
storyFile?.addEventListener("change", async () => {
  const file = storyFile.files[0];
  if (!file) return;
  const bar = document.getElementById("story-progress");
  bar.hidden = false;
  try {
    const media = await upload(file, (n) => { bar.value = n; });
    await api("POST", "/api/v1/stories", { media_id: media.id });
    toast("Your story is up for 24 hours");
  } catch (e) {
    toast(e.message);
  } finally {
    bar.hidden = true;
    storyFile.value = "";
  }
});

const shortForm = document.getElementById("short-form");
shortForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = shortForm.querySelector(".error");
  const bar = shortForm.querySelector("progress");
  const send = shortForm.querySelector("button[type=submit]");
  error.hidden = true;
  send.disabled = true;
  bar.hidden = false;
  try {
    const media = await upload(document.getElementById("short-file").files[0], (n) => { bar.value = n; });
    const alt = document.getElementById("short-alt").value.trim();
    if (alt) await api("PUT", `/api/v1/media/${media.id}`, { description: alt });
    await api("POST", "/api/v1/shorts", {
      status: document.getElementById("short-caption").value,
      media_ids: [media.id],
    }, { "Idempotency-Key": newKey() });
    location.href = shortForm.dataset.profile;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    send.disabled = false;
    bar.hidden = true;
  }
});

connect(0);

// ---- Notifications: mark as read --------------------------------------------------------------

const list = document.getElementById("notifications");
if (list && list.dataset.newest) {
  api("POST", "/api/v1/markers", { notifications: { last_read_id: list.dataset.newest } })
    .then(() => document.getElementById("unread")?.remove())
    .catch(() => {});
}

// ---- Profiles: follow, mute, block ------------------------------------------------------------

const profile = document.querySelector(".profile[data-account]");
profile?.addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-follow], button[data-account-action]");
  if (!button) return;
  const action = button.dataset.follow || button.dataset.accountAction;
  if ((action === "block" || action === "mute") && !confirm(`${action[0].toUpperCase()}${action.slice(1)} this account?`)) return;
  button.disabled = true;
  try {
    await api("POST", `/api/v1/accounts/${profile.dataset.account}/${action}`);
    location.reload();
  } catch (e) {
    toast(e.message);
    button.disabled = false;
  }
});

// ---- Import and export, archives, moving (Settings) -------------------------------------------

/// Fetches `path` with the session and saves the answer as `name`.
async function download(path, name) {
  const res = await fetch(path, { credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
  if (!res.ok) {
    const json = await res.json().catch(() => ({}));
    throw new Error(json.error || res.statusText);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

document.addEventListener("click", async (ev) => {
  const exp = ev.target.closest("[data-export]");
  const arc = ev.target.closest("[data-archive]");
  const why = ev.target.closest("[data-import-failures]");
  const alias = ev.target.closest("[data-remove-alias]");
  try {
    if (exp) await download(`/api/v1/exports/${exp.dataset.export}`, exp.dataset.export);
    else if (arc) await download(`/api/v1/archives/${arc.dataset.archive}/download`, "archive.zip");
    else if (why) {
      const imp = await api("GET", `/api/v1/imports/${why.dataset.importFailures}`);
      const list = document.createElement("ul");
      list.className = "import-failures";
      for (const f of imp.failures) {
        const li = document.createElement("li");
        li.textContent = `line ${f.line}: ${f.item} — ${f.error}`;
        list.append(li);
      }
      why.replaceWith(list);
    } else if (alias) {
      await api("DELETE", `/api/v1/aliases/${alias.dataset.removeAlias}`);
      alias.closest("li").remove();
      toast("Removed");
    }
  } catch (e) {
    toast(e.message);
  }
});

// Imports in progress: their counts follow the job until it finishes.
function watchImports() {
  const waiting = () => document.querySelectorAll('#imports [data-state]:not([data-state="finished"])');
  if (!waiting().length) return;
  const timer = setInterval(async () => {
    try {
      for (const i of await api("GET", "/api/v1/imports")) {
        const li = document.querySelector(`#imports [data-import="${i.id}"]`);
        if (!li) continue;
        li.dataset.state = i.state;
        li.querySelector("progress").value = i.processed_items;
        li.querySelector(".import-counts").textContent =
          `${i.processed_items}/${i.total_items} done, ${i.imported_items} imported, ${i.failed_items} failed` +
          (i.state === "finished" ? "" : ` (${i.state})`);
        if (i.state === "finished" && i.failed_items > 0 && !li.querySelector("[data-import-failures]")) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "ghost small";
          b.dataset.importFailures = i.id;
          b.textContent = "Why";
          li.append(" ", b);
        }
      }
      if (!waiting().length) clearInterval(timer);
    } catch (e) {
      clearInterval(timer);
    }
  }, 1000);
}
watchImports();

const importForm = document.getElementById("import-form");
importForm?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await apiForm("POST", "/api/v1/imports", new FormData(importForm));
    location.reload();
  } catch (e) {
    toast(e.message);
  }
});

document.getElementById("archive-request")?.addEventListener("click", async () => {
  try {
    await api("POST", "/api/v1/archives");
    location.reload();
  } catch (e) {
    toast(e.message);
  }
});

for (const [id, method, path] of [["alias-form", "POST", "/api/v1/aliases"], ["move-form", "POST", "/api/v1/migration"]]) {
  const form = document.getElementById(id);
  form?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (id === "move-form" && !confirm("Move this account? Your followers will follow the new one, and this one becomes read-only.")) return;
    try {
      await api(method, path, Object.fromEntries(new FormData(form)));
      location.reload();
    } catch (e) {
      toast(e.message);
    }
  });
}

document.getElementById("move-undo")?.addEventListener("click", async () => {
  try {
    await api("DELETE", "/api/v1/migration");
    location.reload();
  } catch (e) {
    toast(e.message);
  }
});
