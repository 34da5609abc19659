// Kefu agent desktop (the call part): live offers over the websocket, the ring, timers, and the desk's
// forms sent to the JSON API. Without JavaScript every form still posts to the page and the server
// answers with the page. desk.js (customer panel, KB, dialogs, shortcuts) builds on the exports below.

const live = document.getElementById("phone-live");
const config = JSON.parse(document.getElementById("phone-config").textContent);
const texts = config.texts;
const errorBox = document.querySelector("[data-phone-errors]");
const statusEl = document.querySelector("[data-live-status]");
const baseTitle = document.title;

const fmt = (text, params = {}) => text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));

// ---- server clock, timers and countdowns ---------------------------------------------------------
let offsetMs = 0;
function syncClock(root) {
  const at = Date.parse(root.dataset.serverNow || "");
  if (!Number.isNaN(at)) offsetMs = at - Date.now();
}
const serverNow = () => Date.now() + offsetMs;

function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function tick() {
  const now = serverNow();
  for (const el of live.querySelectorAll("[data-timer-since]")) {
    const since = Date.parse(el.dataset.timerSince);
    if (Number.isNaN(since)) continue;
    const seconds = (now - since) / 1000;
    el.textContent = clockText(seconds);
    if (el.dataset.limit) el.classList.toggle("over-limit", seconds > Number(el.dataset.limit));
  }
  for (const el of live.querySelectorAll("[data-countdown-to]")) {
    const left = Math.ceil((Date.parse(el.dataset.countdownTo) - now) / 1000);
    el.textContent = left > 0 ? fmt(texts["phone.js.seconds"], { n: left }) : texts["phone.js.expired"];
  }
}
setInterval(tick, 500);

// ---- the ring: a short WebAudio beep pattern while an offer rings --------------------------------
let audio = null;
let ringTimer = null;
function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
  } catch {
    audio = null;
  }
}
document.addEventListener("pointerdown", unlockAudio, { capture: true });
document.addEventListener("keydown", unlockAudio, { capture: true });

function beep(at, freq, length) {
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = "sine";
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0, at);
  gain.gain.linearRampToValueAtTime(0.18, at + 0.02);
  gain.gain.setValueAtTime(0.18, at + length - 0.04);
  gain.gain.linearRampToValueAtTime(0, at + length);
  osc.connect(gain).connect(audio.destination);
  osc.start(at);
  osc.stop(at + length + 0.05);
}
function ringOnce() {
  if (!audio || audio.state !== "running") return;
  const t0 = audio.currentTime + 0.05;
  beep(t0, 880, 0.3);
  beep(t0 + 0.45, 660, 0.3);
  beep(t0 + 0.9, 880, 0.3);
}
function updateRing() {
  const ringing = live.querySelector("[data-ringing]") !== null;
  document.title = ringing ? `● ${texts["phone.js.ringing_title"]} · ${baseTitle}` : baseTitle;
  if (ringing && ringTimer === null) {
    ringOnce();
    ringTimer = setInterval(ringOnce, 2500);
  } else if (!ringing && ringTimer !== null) {
    clearInterval(ringTimer);
    ringTimer = null;
  }
}

// ---- messages ---------------------------------------------------------------------------------------
function alertBox(kind, title, detail) {
  const box = document.createElement("div");
  box.className = `alert alert-${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  const p = document.createElement("p");
  p.textContent = title;
  box.append(p);
  if (detail) {
    const d = document.createElement("p");
    d.className = "detail";
    d.lang = "en";
    d.textContent = detail;
    box.append(d);
  }
  return box;
}
function showError(problem) {
  const title = texts[`code.${problem.code}`] || texts["error.generic"];
  errorBox.replaceChildren(alertBox("error", title, problem.detail));
  errorBox.scrollIntoView({ block: "nearest" });
}
function showInfo(text, kind = "info") {
  const box = alertBox(kind, text);
  errorBox.replaceChildren(box);
  setTimeout(() => box.remove(), 6000);
}

// ---- the JSON API ------------------------------------------------------------------------------------
async function api(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": config.csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw { code: "network", detail: "" };
  }
  if (response.status === 401) window.location.reload();
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw data && data.code ? data : { code: "generic", detail: `HTTP ${response.status}` };
  return data;
}

// A local date-time typed in the center's zone (e.g. Asia/Shanghai) as an ISO instant.
function zoneOffsetMinutes(ms, tz) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return Math.round((Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) - ms) / 60000);
}
function zonedIso(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return local || null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let utc = wall - zoneOffsetMinutes(wall, tz) * 60000;
  utc = wall - zoneOffsetMinutes(utc, tz) * 60000;
  return new Date(utc).toISOString();
}

const val = (form, name) => (form.elements[name] ? String(form.elements[name].value || "").trim() : "");
const orNull = (text) => text || null;

function request(kind, form, submitter) {
  const id = form.dataset.contact;
  const desk = `/api/v1/desk/contacts/${id}`;
  switch (kind) {
    case "presence": {
      const presence = val(form, "presence");
      return [["POST", "/api/v1/desk/presence", { presence, reason: presence === "not_ready" ? val(form, "reason") : null }]];
    }
    case "transfer":
      return [["POST", `${desk}/transfer`, {
        queue: orNull(val(form, "queue")), staff_no: orNull(val(form, "staff_no")),
        mode: form.querySelector("input[name=mode]:checked")?.value || "blind",
      }], "phone.js.transfer_requested"];
    case "callback":
      return [["POST", `${desk}/callback`, {
        due_at: zonedIso(val(form, "due_at"), config.timezone), queue: orNull(val(form, "queue")),
        to_self: form.elements.to_self.checked,
      }], "phone.js.saved"];
    case "wrapup": {
      const result = val(form, "result");
      const body = {
        category_id: Number(val(form, "category_id")) || 0, summary: val(form, "summary"), result,
        kb_entries: val(form, "kb_entries").split("\n").map((s) => s.trim()).filter(Boolean).slice(0, 20),
      };
      if (result === "follow_up") {
        body.follow_up = { details: val(form, "follow_up_details"), due_at: zonedIso(val(form, "follow_up_due"), config.timezone) };
      }
      const calls = [["POST", `/api/v1/contacts/${id}/wrapup`, body]];
      if (submitter && submitter.value === "ready") calls.push(["POST", "/api/v1/desk/presence", { presence: "ready" }]);
      return [...calls, "phone.js.saved"];
    }
    case "simulate": {
      const [dialled, digits] = val(form, "route").split("|");
      return [["POST", "/api/v1/cti/simulate", {
        caller: orNull(val(form, "caller")), dialled: dialled || undefined, ivr: digits ? digits.split("") : [],
        customer_no: orNull(val(form, "customer_no").toUpperCase()),
      }], "phone.js.simulated"];
    }
    case "sim-hangup":
      return [["POST", "/api/v1/cti/simulate/hangup", { call_id: val(form, "call_id") }], "phone.js.sim_hangup_done"];
    default:
      return [["POST", `${desk}/${kind}`]];
  }
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (event.defaultPrevented || !form.matches("form[data-api]") || !live.contains(form)) return;
  event.preventDefault();
  const steps = request(form.dataset.api, form, event.submitter);
  const note = typeof steps[steps.length - 1] === "string" ? steps.pop() : null;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  let last = null;
  try {
    for (const [method, url, body] of steps) last = await api(method, url, body);
    errorBox.replaceChildren();
    if (note) {
      const status = last && last.status ? texts[`contact.status.${last.status}`] || last.status : "";
      showInfo(fmt(texts[note], { id: last && last.contact_id, status }), "success");
    }
    if (form.dataset.api === "simulate") form.reset();
    if (form.dataset.api === "accept") live.dataset.digitalFocus = ""; // an answered call takes the panels
  } catch (problem) {
    showError(problem);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    await refresh();
  }
});

// ---- refreshing the live part: swap in only the sections that changed ---------------------------
let refreshing = null;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      try {
        const asked = live.dataset.digitalFocus || "";
        const focus = asked ? `?focus=${encodeURIComponent(asked)}` : "";
        const response = await fetch(`/phone/live${focus}`, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (response.redirected || response.status === 401) return window.location.reload();
        if (!response.ok) continue;
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const root = doc.getElementById("phone-live");
        if (root) merge(root, asked);
      } catch {
        // the next message or poll tries again
      }
    } while (again);
  })();
  await refreshing;
  refreshing = null;
}

function merge(root, asked) {
  for (const column of root.querySelectorAll("[data-column]")) {
    const current = live.querySelector(`[data-column="${column.dataset.column}"]`);
    if (!current) continue;
    // Unchanged sections stay where they are (never moved: a form being filled in keeps its input and
    // focus); changed ones are replaced in place, new ones inserted, gone ones removed.
    const wanted = new Set();
    let cursor = null;
    for (const section of Array.from(column.children)) {
      const name = section.dataset.section || "";
      wanted.add(name);
      const old = current.querySelector(`:scope > [data-section="${CSS.escape(name)}"]`);
      if (old && old.dataset.key === section.dataset.key) {
        cursor = old;
        continue;
      }
      if (old) {
        // keep what the agent had opened (transfer, callback) when the section changes under it
        const opened = Array.from(old.querySelectorAll("details"), (d) => d.open);
        section.querySelectorAll("details").forEach((d, i) => { if (opened[i]) d.open = true; });
        old.replaceWith(section);
      }
      else if (cursor) cursor.after(section);
      else current.prepend(section);
      cursor = section;
    }
    for (const old of Array.from(current.children)) {
      if (!wanted.has(old.dataset.section || "")) old.remove();
    }
  }
  live.dataset.presence = root.dataset.presence;
  live.dataset.serverNow = root.dataset.serverNow;
  live.dataset.focusContact = root.dataset.focusContact || "";
  // the chat or e-mail the panels are about: what the server accepted, unless the agent chose another meanwhile
  if ((live.dataset.digitalFocus || "") === asked) live.dataset.digitalFocus = root.dataset.digitalFocus || "";
  syncClock(root);
  tick();
  updateRing();
  document.dispatchEvent(new CustomEvent("desk:refreshed"));
}

// ---- the websocket, with reconnect and a polling fallback --------------------------------------------
const NOTES = {
  transfer_failed: "phone.js.transfer_failed", transferred: "phone.js.transferred", offer_cancelled: "phone.js.offer_cancelled",
  wrapup_overdue: "phone.js.wrapup_overdue", "followup.reminder": "phone.js.followup_reminder",
  "followup.overdue": "phone.js.followup_overdue",
};
let socket = null;
let backoff = 1000;
let lastSignature = null;
let pollTimer = null;

function setStatus(state) {
  statusEl.dataset.liveStatus = state;
  statusEl.textContent = texts[state === "live" ? "phone.js.socket_live" : "phone.js.socket_polling"];
}

async function poll() {
  try {
    const desk = await api("GET", "/api/v1/desk");
    const signature = JSON.stringify([desk.presence, desk.reason, desk.since,
      desk.contacts.map((c) => [c.contact_id, c.status, c.on_hold, c.transfer_pending]),
      desk.pending_wrapups.map((p) => p.contact_id)]);
    if (signature !== lastSignature) {
      lastSignature = signature;
      await refresh();
    }
  } catch {
    // offline for a moment: the next poll tries again
  }
}
function startPolling(every) {
  clearInterval(pollTimer);
  pollTimer = setInterval(poll, every);
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  try {
    socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/ws`);
  } catch {
    return reconnectLater();
  }
  let pinger = null;
  socket.addEventListener("open", () => {
    backoff = 1000;
    setStatus("live");
    startPolling(15000); // a slow safety net while the socket is up
    pinger = setInterval(() => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ping" })), 25000);
    refresh();
  });
  socket.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.type === "hello" || msg.type === "pong" || msg.type === "queues") return;
    if (msg.type === "presence" && msg.agent_id !== config.staff_id) return;
    if (NOTES[msg.type]) showInfo(fmt(texts[NOTES[msg.type]], msg), msg.type.endsWith("overdue") ? "warn" : "info");
    refresh();
  });
  socket.addEventListener("close", () => {
    clearInterval(pinger);
    reconnectLater();
  });
}
function reconnectLater() {
  setStatus("polling");
  startPolling(3000);
  setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 30000);
}

export { api, config, fmt, live, refresh, showError, showInfo, texts };

syncClock(live);
tick();
updateRing();
setStatus("polling");
startPolling(3000);
connect();
