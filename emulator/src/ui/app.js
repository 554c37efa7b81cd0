// The emulator's web inbox. Everything shown is built node by node from text: message
// content is set as text, and an HTML message is parsed into an inert document and copied
// through an allow-list of elements and attributes.
"use strict";

const TYPING_MS = 8000;
const EVENTS_KEPT = 500;
const PROBLEMS_KEPT = 500;

const state = {
  threads: new Map(),
  threadCount: 0,
  problems: [],
  pendingFaults: 0,
  settings: { limits: true, latencyMs: 0, jitterMs: 0 },
  selected: null,
  chosen: false,
  clockOffset: 0,
  typing: new Map(),
};

// ---- text made visible --------------------------------------------------------------------

// Control, zero-width and direction-changing characters are shown as symbols, never applied.
const HIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u2028\u2029\u202A-\u202E\u2060-\u2069\uFEFF]/g;

function visible(text) {
  return String(text).replace(HIDDEN, (c) => {
    const n = c.codePointAt(0);
    if (n < 0x20) return String.fromCodePoint(0x2400 + n);
    if (n === 0x7f) return "\u2421";
    return "<U+" + n.toString(16).toUpperCase().padStart(4, "0") + ">";
  });
}

function node(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = visible(text);
  return el;
}

function clock(atMs) {
  const d = new Date(state.clockOffset + atMs);
  const pad = (n, w) => String(n).padStart(w, "0");
  return pad(d.getHours(), 2) + ":" + pad(d.getMinutes(), 2) + ":" + pad(d.getSeconds(), 2) +
    "." + pad(d.getMilliseconds(), 3);
}

// ---- HTML messages ------------------------------------------------------------------------

const KEEP = new Set([
  "A", "ABBR", "B", "BLOCKQUOTE", "BR", "CODE", "DEL", "DIV", "EM", "H1", "H2", "H3", "H4",
  "H5", "H6", "HR", "I", "INS", "LI", "OL", "P", "PRE", "S", "SMALL", "SPAN", "STRONG", "SUB",
  "SUP", "TABLE", "TBODY", "TD", "TFOOT", "TH", "THEAD", "TR", "U", "UL",
]);
const DROP = new Set([
  "SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "FRAME", "FRAMESET", "OBJECT", "EMBED", "APPLET",
  "NOSCRIPT", "TITLE", "HEAD", "META", "LINK", "BASE", "SVG", "MATH", "FORM", "INPUT",
  "BUTTON", "SELECT", "TEXTAREA", "OPTION", "AUDIO", "VIDEO", "SOURCE", "TRACK", "CANVAS",
  "PORTAL", "DIALOG",
]);
const MAX_DEPTH = 64;

function safeHref(href) {
  try {
    const url = new URL(href);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch (_) {
    return null;
  }
}

// The parsed document has no browsing context: its scripts never run and its images never
// load. Only new elements made here reach the page, with no attribute but a checked link.
function sanitized(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  const out = document.createDocumentFragment();
  copyChildren(parsed.body, out, 0);
  return out;
}

function copyChildren(from, to, depth) {
  for (const child of from.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      to.appendChild(document.createTextNode(visible(child.data)));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = child.tagName.toUpperCase();
    if (DROP.has(tag)) {
      to.appendChild(node("span", "removed", "[" + tag.toLowerCase() + " removed]"));
    } else if (tag === "IMG") {
      const alt = child.getAttribute("alt");
      to.appendChild(node("span", "removed", "[image" + (alt ? ": " + alt : "") + "]"));
    } else if (KEEP.has(tag) && depth < MAX_DEPTH) {
      const copy = document.createElement(tag);
      if (tag === "A") {
        const href = safeHref(child.getAttribute("href") || "");
        if (href) {
          copy.setAttribute("href", href);
          copy.setAttribute("rel", "noopener noreferrer nofollow");
          copy.setAttribute("target", "_blank");
        }
      }
      copyChildren(child, copy, depth + 1);
      to.appendChild(copy);
    } else {
      copyChildren(child, to, depth + 1);
    }
  }
}

// ---- state changes ------------------------------------------------------------------------

function thread(id) {
  let t = state.threads.get(id);
  if (!t) {
    t = { id, events: [], eventCount: 0, lastAt: 0, omitted: 0 };
    state.threads.set(id, t);
    state.threadCount += 1;
  }
  return t;
}

function addEvent(t, event, live) {
  t.events.push(event);
  t.eventCount += 1;
  t.lastAt = Math.max(t.lastAt, event.atMs);
  if (t.events.length > EVENTS_KEPT) {
    t.events.shift();
    t.omitted += 1;
  }
  if (event.op === "typing") {
    const until = state.clockOffset + event.atMs + TYPING_MS;
    const name = event.senderDisplayName || event.user;
    if (until > Date.now()) state.typing.set(t.id + "\u0000" + event.user, { thread: t.id, name, until });
  } else if (event.op === "message" && live) {
    // A message ends its sender's typing.
    state.typing.delete(t.id + "\u0000" + event.user);
  }
}

function applySnapshot(s) {
  state.clockOffset = Date.now() - s.nowMs;
  state.threads = new Map();
  state.threadCount = s.threadCount;
  state.typing = new Map();
  for (const t of s.threads) {
    const kept = { id: t.id, events: [], eventCount: 0, lastAt: 0, omitted: 0 };
    state.threads.set(t.id, kept);
    for (const e of t.events) addEvent(kept, e, false);
    kept.omitted = t.eventCount - t.events.length;
    kept.eventCount = t.eventCount;
  }
  state.problems = s.problems;
  state.pendingFaults = s.pendingFaults;
  state.settings = { limits: s.limits, latencyMs: s.latencyMs, jitterMs: s.jitterMs };
  if (state.selected !== null && !state.threads.has(state.selected)) {
    state.selected = null;
    state.chosen = false;
  }
}

function apply(change) {
  switch (change.kind) {
    case "snapshot":
      applySnapshot(change);
      break;
    case "event":
      addEvent(thread(change.threadId), change.event, true);
      break;
    case "request":
      state.problems.push(change.request);
      if (state.problems.length > PROBLEMS_KEPT) state.problems.shift();
      break;
    case "faults":
      state.pendingFaults = change.pendingFaults;
      break;
    case "reset":
      state.threads = new Map();
      state.threadCount = 0;
      state.problems = [];
      state.pendingFaults = 0;
      state.typing = new Map();
      state.selected = null;
      state.chosen = false;
      break;
    default:
      return;
  }
  scheduleRender();
}

// ---- rendering ----------------------------------------------------------------------------

let renderPending = false;

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function byId(id) {
  return document.getElementById(id);
}

function render() {
  const ordered = [...state.threads.values()].sort((a, b) => b.lastAt - a.lastAt);
  if (!state.chosen) state.selected = ordered.length ? ordered[0].id : null;
  renderSettings();
  renderThreads(ordered);
  renderTranscript();
  renderTyping();
  renderProblems();
}

function renderSettings() {
  const s = state.settings;
  let text = "limits " + (s.limits ? "on" : "off") + " \u00b7 latency " + s.latencyMs + " ms";
  if (s.jitterMs) text += " + 0..=" + s.jitterMs + " ms";
  text += " \u00b7 pending faults " + state.pendingFaults;
  byId("settings").textContent = text;
}

function renderThreads(ordered) {
  const list = byId("threads");
  list.replaceChildren();
  for (const t of ordered) {
    const li = node("li", t.id === state.selected ? "selected thread" : "thread");
    li.dataset.thread = t.id;
    li.appendChild(node("span", "name", t.id));
    li.appendChild(node("span", "count", t.eventCount));
    li.addEventListener("click", () => {
      state.selected = t.id;
      state.chosen = true;
      scheduleRender();
    });
    list.appendChild(li);
  }
  byId("thread-count").textContent = state.threadCount ? "(" + state.threadCount + ")" : "";
  byId("no-threads").hidden = ordered.length > 0;
}

function displayNames(t) {
  const names = new Map();
  for (const e of t.events) {
    if (e.senderDisplayName) names.set(e.user, e.senderDisplayName);
  }
  return names;
}

function renderTranscript() {
  const list = byId("transcript");
  list.replaceChildren();
  const t = state.selected === null ? null : state.threads.get(state.selected);
  const title = byId("thread-title");
  const omitted = byId("omitted");
  if (!t) {
    title.textContent = "No thread selected";
    title.className = "muted";
    omitted.hidden = true;
    return;
  }
  title.textContent = visible(t.id);
  title.className = "";
  omitted.hidden = t.omitted <= 0;
  omitted.textContent = t.omitted + " older events not shown (GET /_emulator/threads/{id}/events has them all)";
  const names = displayNames(t);
  const readers = new Map();
  const messageIds = new Set(t.events.filter((e) => e.op === "message").map((e) => e.id));
  for (const e of t.events) {
    if (e.op !== "readReceipt") continue;
    const who = names.get(e.user) || e.user;
    if (messageIds.has(e.chatMessageId)) {
      const set = readers.get(e.chatMessageId) || new Set();
      set.add(who);
      readers.set(e.chatMessageId, set);
    } else {
      list.appendChild(node("li", "note receipt-unknown",
        "read receipt from " + who + " for message " + e.chatMessageId + ", not in this view"));
    }
  }
  for (const e of t.events) {
    if (e.op === "message") list.appendChild(messageCard(e, names, readers.get(e.id)));
  }
}

function messageCard(e, names, readers) {
  const li = node("li", "message");
  li.dataset.id = e.id;
  const head = node("div", "head");
  head.appendChild(node("span", "sender", e.senderDisplayName || names.get(e.user) || e.user));
  head.appendChild(node("span", "meta-line", clock(e.atMs) + " \u00b7 id " + e.id + " \u00b7 " + e.type +
    " \u00b7 " + e.user));
  li.appendChild(head);
  const content = node("div", "content " + e.type);
  if (e.type === "html") {
    content.appendChild(sanitized(e.content));
  } else {
    content.textContent = visible(e.content);
  }
  li.appendChild(content);
  if (e.type === "html") {
    const source = node("details", "source");
    source.appendChild(node("summary", null, "HTML source"));
    source.appendChild(node("pre", "raw", e.content));
    li.appendChild(source);
  }
  const metadata = e.metadata ? Object.entries(e.metadata) : [];
  if (metadata.length) {
    const dl = node("dl", "metadata");
    for (const [k, v] of metadata) {
      dl.appendChild(node("dt", null, k));
      dl.appendChild(node("dd", null, v));
    }
    li.appendChild(dl);
  }
  if (e.clipped) li.appendChild(node("p", "note", "Some fields are shortened here; the events API has them whole."));
  if (readers && readers.size) {
    li.appendChild(node("div", "receipts", "\u2713 read by " + [...readers].join(", ")));
  }
  return li;
}

function renderTyping() {
  const now = Date.now();
  const names = [];
  for (const [key, entry] of state.typing) {
    if (entry.until <= now) state.typing.delete(key);
    else if (entry.thread === state.selected) names.push(entry.name);
  }
  const el = byId("typing");
  if (!names.length) {
    el.textContent = "";
  } else {
    el.textContent = visible(names.join(", ") + (names.length === 1 ? " is typing\u2026" : " are typing\u2026"));
  }
}

function renderProblems() {
  const list = byId("problems");
  list.replaceChildren();
  for (const p of [...state.problems].reverse()) {
    const li = node("li", "problem");
    li.appendChild(node("span", "code", p.status === 0 ? "no answer" : String(p.status)));
    li.appendChild(document.createTextNode(" " + visible(p.method + " " + p.op + " \u00b7 " + clock(p.atMs))));
    li.appendChild(node("div", "thread-id", "thread " + p.threadId));
    if (p.reason) li.appendChild(node("div", "reason", p.reason));
    list.appendChild(li);
  }
  byId("no-problems").hidden = state.problems.length > 0;
}

// ---- controls -----------------------------------------------------------------------------

async function post(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await resp.text();
  let value = null;
  try {
    value = JSON.parse(text);
  } catch (_) {
    value = null;
  }
  if (!resp.ok) {
    const message = value && value.error ? value.error.message : text;
    throw new Error(resp.status + ": " + message);
  }
  return value;
}

function setUpControls() {
  byId("reset").addEventListener("click", () => {
    post("/_emulator/reset", {}).catch((e) => {
      byId("fault-result").textContent = visible("Reset failed: " + e.message);
    });
  });
  byId("fault-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const spec = {
      op: form.get("op"),
      action: form.get("action"),
      count: Number(form.get("count") || 1),
      delayMs: Number(form.get("delayMs") || 0),
    };
    const threadId = String(form.get("threadId") || "");
    if (threadId) spec.threadId = threadId;
    if (spec.action === "respond" || spec.action === "oversize") {
      const status = String(form.get("status") || "");
      if (status) spec.status = Number(status);
    }
    post("/_emulator/faults", spec).then(
      (r) => { byId("fault-result").textContent = "Queued; " + r.pending + " pending."; },
      (e) => { byId("fault-result").textContent = visible("Refused: " + e.message); },
    );
  });
}

// ---- the live feed ------------------------------------------------------------------------

function connect() {
  const status = byId("status");
  const source = new EventSource("/_emulator/stream");
  source.onopen = () => {
    status.textContent = "live";
    status.className = "status live";
  };
  source.onerror = () => {
    // The browser reconnects by itself; the new stream starts with a snapshot.
    status.textContent = "reconnecting";
    status.className = "status offline";
  };
  source.onmessage = (msg) => {
    let change;
    try {
      change = JSON.parse(msg.data);
    } catch (_) {
      return;
    }
    apply(change);
  };
}

setUpControls();
connect();
setInterval(renderTyping, 500);
