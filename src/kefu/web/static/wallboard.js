// Kefu wallboard: queue status from the websocket ("queues", "presence" messages) and the full snapshot
// (GET /api/v1/routing/live) every few seconds; the chart, channels and backlog panels as server-rendered
// HTML (GET /wallboard/panels) every half minute. The page itself is a server-rendered first snapshot.
// Service-level alerts are labelled banners; a new or cleared alert is also announced in a live region.

const config = JSON.parse(document.getElementById("wall-config").textContent);
const texts = config.texts;
const queueBody = document.querySelector("[data-queue-rows]");
const totalRow = document.querySelector("[data-queue-total]");
const agentBody = document.querySelector("[data-agent-rows]");
const statusEl = document.querySelector("[data-live-status]");
const updatedEl = document.querySelector("[data-updated]");
const alertsEl = document.querySelector("[data-alerts]");
const alertLive = document.querySelector("[data-alert-live]");
const panelsHost = document.querySelector("[data-panels-host]");
const LIVE = ["waiting", "oldest_wait_s", "scheduled", "agents_ready", "agents_busy", "agents_not_ready"];
const TODAY = ["offered", "answered", "abandoned", "service_level", "asa_seconds", "abandon_rate"];

const fmt = (text, params = {}) => text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
const text = (key) => texts[key] || key;

// Live state of each queue and today's figures, by queue code.
const state = { queues: new Map(), today: new Map(), total: {}, stamp: performance.now(), at: 0 };
const below = (v) => v !== null && v !== undefined && v < config.goal;
// alerts shown now, by queue code -> text (the first render's banners count as known)
let shownAlerts = new Map(
  [...document.querySelectorAll("[data-alert]")].map((el) => [el.dataset.alert, el.textContent.trim()]),
);

function cell(tag, className, value, field) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (field) el.dataset.field = field;
  el.textContent = value;
  return el;
}

function queueCells(row, r) {
  const waiting = Number(r.waiting || 0);
  const slBelow = r.service_level !== null && r.service_level !== undefined && r.service_level < config.goal;
  const oldest = cell("td", "num", waiting ? clock(r.oldest_wait_s) : "—", "oldest_wait_s");
  oldest.dataset.seconds = String(Math.round(r.oldest_wait_s || 0));
  row.append(
    cell("td", `num big-num${waiting ? " has-waiting" : ""}`, String(waiting), "waiting"), oldest,
    cell("td", "num", String(r.agents_ready || 0), "agents_ready"),
    cell("td", "num", String(r.agents_busy || 0), "agents_busy"),
    cell("td", "num", String(r.agents_not_ready || 0), "agents_not_ready"),
    cell("td", "num sep", String(r.offered || 0), "offered"),
    cell("td", "num", String(r.answered || 0), "answered"),
    cell("td", "num", String(r.abandoned || 0), "abandoned"),
    cell("td", `num sl${slBelow ? " below-target" : ""}`, pct(r.service_level), "service_level"),
    cell("td", "num", r.asa_seconds === null || r.asa_seconds === undefined ? "—"
      : fmt(text("wall.seconds"), { n: Number(r.asa_seconds).toFixed(1) }), "asa_seconds"),
    cell("td", "num", pct(r.abandon_rate), "abandon_rate"),
    cell("td", `num sep sl${below(r.interval_service_level) ? " below-target" : ""}`, pct(r.interval_service_level),
      "interval_service_level"),
  );
}

function render() {
  const rows = [];
  const total = { ...state.total, waiting: 0, oldest_wait_s: 0, agents_ready: 0, agents_busy: 0, agents_not_ready: 0 };
  for (const [code, live] of state.queues) {
    const r = { ...live, ...(state.today.get(code) || {}) };
    for (const k of ["waiting", "agents_ready", "agents_busy", "agents_not_ready"]) total[k] += Number(r[k] || 0);
    total.oldest_wait_s = Math.max(total.oldest_wait_s, Number(r.oldest_wait_s || 0));
    const tr = document.createElement("tr");
    tr.dataset.queue = code;
    const th = cell("th", "", `${config.names[code] || code} `);
    th.scope = "row";
    th.append(cell("span", "muted", code));
    tr.append(th);
    queueCells(tr, r);
    rows.push(tr);
  }
  if (state.agentTotals) Object.assign(total, state.agentTotals); // distinct agents, not the sum of queue rows
  if (rows.length) queueBody.replaceChildren(...rows);
  const th = totalRow.querySelector("th");
  totalRow.replaceChildren(th);
  queueCells(totalRow, total);
  for (const el of document.querySelectorAll("[data-kpi]")) {
    const k = el.dataset.kpi;
    if (k === "service_level" || k === "abandon_rate" || k === "interval_service_level") el.textContent = pct(total[k]);
    else if (k === "oldest_wait_s") {
      el.dataset.seconds = String(Math.round(total.oldest_wait_s || 0));
      el.textContent = total.waiting ? clock(total.oldest_wait_s) : "—";
    } else el.textContent = String(total[k] || 0);
  }
  for (const k of ["service_level", "interval_service_level"]) {
    const box = document.querySelector(`[data-kpi-box="${k}"]`);
    if (box) box.classList.toggle("below-target", below(total[k]));
  }
  state.stamp = performance.now();
}

function renderAgents(agents) {
  if (!agents.length) {
    const tr = document.createElement("tr");
    const td = cell("td", "empty", text("wall.agents.none"));
    td.colSpan = 5;
    tr.append(td);
    agentBody.replaceChildren(tr);
    return;
  }
  agentBody.replaceChildren(...agents.map((a) => {
    const tr = document.createElement("tr");
    tr.dataset.agent = a.agent_id;
    const badge = cell("span", `badge presence-badge presence-${a.presence}`,
      text(`presence.${a.presence}`) + (a.reason ? ` · ${text(`presence.reason.${a.reason}`)}` : ""));
    const presence = document.createElement("td");
    presence.append(badge);
    const seconds = cell("td", "num", clock(a.seconds));
    seconds.dataset.seconds = String(a.seconds);
    const contact = document.createElement("td");
    if (a.contact_id) {
      const link = cell("a", "", `#${a.contact_id}`);
      link.href = `/contacts/${a.contact_id}`;
      contact.append(link);
    } else contact.textContent = "—";
    tr.append(cell("td", "", a.staff_no), cell("td", "", a.name), presence, seconds, contact);
    return tr;
  }));
}

function alertText(a) {
  let out = fmt(text("wall.alert.text"), { queue: config.names[a.queue] || a.queue, goal: pct(config.goal) });
  if (a.below.includes("interval")) out += ` · ${text("wall.alert.interval")} ${pct(a.interval_service_level)}`;
  if (a.below.includes("today")) out += ` · ${text("wall.alert.today")} ${pct(a.service_level)}`;
  return out;
}

function renderAlerts(alerts) {
  const next = new Map(alerts.map((a) => [a.queue, alertText(a)]));
  alertsEl.replaceChildren(...alerts.map((a) => {
    const box = document.createElement("div");
    box.className = "wall-alert";
    box.dataset.alert = a.queue;
    box.append(cell("span", "wall-alert-label", text("wall.alert.label")), " ", cell("span", "wall-alert-text", next.get(a.queue)));
    return box;
  }));
  const said = [];
  for (const [code, msg] of next) if (!shownAlerts.has(code)) said.push(`${text("wall.alert.label")}: ${msg}`);
  for (const code of shownAlerts.keys()) {
    if (!next.has(code)) said.push(fmt(text("wall.alert.cleared"), { queue: config.names[code] || code }));
  }
  if (said.length) alertLive.textContent = said.join(" ");
  shownAlerts = next;
}

// The panels follow the snapshot: when today's counts, the channels, follow-ups or complaints change,
// they are fetched at once instead of at the next half-minute round.
let panelsSig = null;
function panelsSignature(snap) {
  const all = snap.today.all;
  return JSON.stringify([all.offered, all.answered, all.abandoned, snap.interval.start, snap.channels, snap.follow_ups,
    snap.complaints ? [snap.complaints.total, snap.complaints.breached] : null]);
}

async function refreshPanels() {
  try {
    const response = await fetch("/wallboard/panels", { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const panels = doc.querySelector("[data-panels]");
    if (panels) panelsHost.replaceChildren(document.importNode(panels, true));
  } catch {
    // the next round tries again
  }
}

function applyQueues(queues) {
  state.queues = new Map(queues.map((q) => [q.queue, Object.fromEntries(LIVE.map((k) => [k, q[k]]))]));
}

async function refresh() {
  try {
    const response = await fetch("/api/v1/routing/live", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) return window.location.reload();
    if (!response.ok) return;
    const snap = await response.json();
    const at = Date.parse(snap.at);
    if (at < state.at) return; // an older answer that arrived late
    state.at = at;
    applyQueues(snap.queues);
    state.today = new Map(snap.today.queues.map((q) => [q.queue, Object.fromEntries(TODAY.map((k) => [k, q[k]]))]));
    const interval = new Map(snap.interval.queues.map((q) => [q.queue, q.service_level]));
    for (const code of state.queues.keys()) {
      const today = state.today.get(code) || {};
      today.interval_service_level = interval.has(code) ? interval.get(code) : null;
      state.today.set(code, today);
    }
    state.total = Object.fromEntries(TODAY.map((k) => [k, snap.today.all[k]]));
    state.total.interval_service_level = snap.interval.all.service_level;
    renderAlerts(snap.alerts);
    const sig = panelsSignature(snap);
    if (panelsSig !== null && sig !== panelsSig) refreshPanels();
    panelsSig = sig;
    state.agentTotals = snap.agent_totals;
    render();
    renderAgents(snap.agents);
    updatedEl.dateTime = snap.at;
    updatedEl.textContent = new Date(snap.at).toLocaleTimeString(document.documentElement.lang, { timeZone: config.timezone, hour12: false });
  } catch {
    // the next round tries again
  }
}

// Waits and times in state move on between updates.
setInterval(() => {
  const gone = (performance.now() - state.stamp) / 1000;
  for (const el of document.querySelectorAll("[data-seconds]")) {
    const row = el.closest("tr");
    const waiting = row ? row.querySelector('[data-field="waiting"]') : null;
    if (el.dataset.field === "oldest_wait_s" && waiting && waiting.textContent === "0") continue;
    if (el.dataset.kpi === "oldest_wait_s" && el.textContent === "—") continue;
    el.textContent = clock(Number(el.dataset.seconds) + gone);
  }
}, 1000);

let backoff = 1000;
let presenceTimer = null;
function setStatus(live) {
  statusEl.dataset.liveStatus = live ? "live" : "polling";
  statusEl.textContent = text(live ? "wall.js.live" : "wall.js.polling");
}
function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  let socket;
  try {
    socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/ws`);
  } catch {
    return setTimeout(connect, backoff);
  }
  socket.addEventListener("open", () => {
    backoff = 1000;
    setStatus(true);
  });
  socket.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.type === "queues") {
      applyQueues(msg.queues);
      render();
    } else if (msg.type === "presence" || msg.type === "wrapup_overdue" || msg.type === "hold") {
      clearTimeout(presenceTimer);
      presenceTimer = setTimeout(refresh, 300);
    }
  });
  socket.addEventListener("close", () => {
    setStatus(false);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 30000);
  });
}

setStatus(false);
refresh();
setInterval(refresh, config.refresh_seconds * 1000);
setInterval(refreshPanels, config.panels_seconds * 1000);
connect();
