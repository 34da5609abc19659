// Chats and e-mails on the agent desktop: tabs beside the call, kept live over the websocket.
const root = document.querySelector("[data-digital-desk]");
if (root) {
  const T = JSON.parse(document.getElementById("dd-texts").textContent || "{}");
  const csrf = root.dataset.csrf;
  const tabs = root.querySelector("[data-dd-tabs]");
  const panels = root.querySelector("[data-dd-panels]");
  const empty = root.querySelector("[data-dd-empty]");
  const count = root.querySelector("[data-dd-count]");
  const options = root.querySelector("[data-dd-transfer-options]").innerHTML;
  const items = new Map(); // contact_id -> {data, tab, panel, unread}
  let selected = null;
  const t = (k, p = {}) => (T[k] || k).replace(/\{(\w+)\}/g, (m, n) => (n in p ? String(p[n]) : m));

  async function api(method, url, body) {
    const r = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status === 204) return {};
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.detail || `${r.status}`);
    return data;
  }

  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const kid of kids) e.append(kid);
    return e;
  }

  function label(d) {
    const who = d.customer ? d.customer.name || d.customer.customer_no : d.caller || `#${d.contact_id}`;
    return `${d.channel === "chat" ? t("desk.dd.chat") : t("desk.dd.email")} · ${who}`;
  }

  // the customer panel and the script follow the tab the agent chooses (desk.js listens)
  const focusOn = (id) => document.dispatchEvent(new CustomEvent("desk:focus", { detail: { contact: id } }));

  function select(id) {
    selected = id;
    for (const [cid, it] of items) {
      const on = cid === id;
      it.tab.setAttribute("aria-selected", on ? "true" : "false");
      it.tab.tabIndex = on ? 0 : -1;
      it.panel.hidden = !on;
      if (on) { it.unread = 0; badge(it); }
    }
  }

  function badge(it) {
    it.tab.querySelector(".dd-badge")?.remove();
    if (it.unread) it.tab.append(el("span", { class: "dd-badge" }, String(it.unread)));
  }

  function summary() {
    empty.hidden = items.size > 0;
    count.textContent = items.size ? t("desk.dd.count", { n: items.size }) : "";
  }

  function message(m, channel) {
    const cls = channel === "email" ? m.direction : m.sender;
    const head = channel === "email" ? `${m.direction === "inbound" ? t("desk.dd.from_customer") : t("desk.dd.from_us")} · ${(m.at || "").slice(11, 16)}` : `${t("desk.dd.sender_" + m.sender)}${m.agent_no ? " " + m.agent_no : ""} · ${(m.at || "").slice(11, 16)}`;
    const li = el("li", { class: `dd-msg ${cls}` }, el("small", {}, head));
    if (channel === "email" && m.subject) li.append(el("strong", {}, m.subject), document.createElement("br"));
    li.append(document.createTextNode(m.text ?? m.body ?? ""));
    for (const a of m.attachments || []) {
      li.append(el("div", { class: "dd-attach" }, el("a", { href: `/api/v1/email/attachments/${a.id}`, download: "" }, `📎 ${a.filename} (${Math.ceil(a.size / 1024)} KB)`)));
    }
    return li;
  }

  async function loadThread(it) {
    const d = it.data;
    const log = it.panel.querySelector(".dd-log");
    if (!log) return;
    try {
      const body = d.channel === "chat" ? await api("GET", `/api/v1/chat/contacts/${d.contact_id}`) : await api("GET", `/api/v1/email/contacts/${d.contact_id}`);
      log.replaceChildren(...(body.messages || []).map((m) => message(m, d.channel)));
      log.scrollTop = log.scrollHeight;
    } catch (e) {
      log.replaceChildren(el("li", { class: "dd-error" }, e.message));
    }
  }

  function errorLine(it, text) {
    const box = it.panel.querySelector(".dd-error-line");
    box.textContent = text || "";
  }

  function retitle(it) {
    const d = it.data;
    it.tab.className = `dd-tab ${d.status}`;
    it.tab.firstChild.textContent = label(d) + (d.status === "offered" ? ` · ${t("desk.dd.ringing")}` : d.status === "wrap_up" ? ` · ${t("desk.dd.wrapup")}` : "");
  }

  function render(it) {
    const d = it.data;
    retitle(it);
    const p = it.panel;
    p.replaceChildren();
    p.append(el("p", { class: "dd-error dd-error-line", role: "alert" }));
    if (d.status === "offered") {
      p.append(
        el("p", {}, t("desk.dd.offer", { queue: d.queue })),
        el("div", { class: "dd-row" },
          el("button", { class: "btn btn-answer", type: "button", "data-dd-accept": d.contact_id, onclick: () => act(it, "accept") }, t("desk.dd.accept")),
          el("button", { class: "btn btn-danger", type: "button", onclick: () => act(it, "decline") }, t("desk.dd.decline"))),
      );
      return;
    }
    p.append(el("ol", { class: "dd-log", "aria-live": "polite" }));
    if (d.status === "wrap_up") {
      p.append(el("p", { class: "hint" }, t("desk.dd.wrapup_hint")));
    } else {
      const area = el("textarea", { rows: "2", maxlength: d.channel === "chat" ? "1000" : "5000", "aria-label": t("desk.dd.reply"), "data-dd-text": d.contact_id });
      area.addEventListener("keydown", (ev) => {
        if (d.channel === "chat" && ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendText(it, area, false); }
      });
      const sendBtn = el("button", { class: "btn btn-primary", type: "button", "data-dd-send": d.contact_id, onclick: () => sendText(it, area, false) }, t("desk.dd.send"));
      p.append(el("div", { class: "dd-compose" }, area, sendBtn));
      const queue = el("select", { "aria-label": t("desk.dd.transfer_queue") });
      queue.innerHTML = options;
      const row = el("div", { class: "dd-row" });
      if (d.channel === "email") row.append(el("button", { class: "btn", type: "button", onclick: () => sendText(it, area, true) }, t("desk.dd.reply_close")));
      row.append(
        el("button", { class: "btn btn-hangup", type: "button", "data-dd-close": d.contact_id, onclick: () => closeIt(it) }, t("desk.dd.close")),
        queue,
        el("button", { class: "btn", type: "button", onclick: () => transfer(it, queue.value) }, t("desk.dd.transfer")),
      );
      p.append(row);
    }
    loadThread(it);
  }

  async function act(it, what) {
    try { await api("POST", `/api/v1/desk/digital/${it.data.contact_id}/${what}`); await refresh(); }
    catch (e) { errorLine(it, e.message); }
  }
  async function sendText(it, area, close) {
    const text = area.value.trim();
    if (!text) return;
    try {
      if (it.data.channel === "chat") await api("POST", `/api/v1/chat/contacts/${it.data.contact_id}/messages`, { text });
      else await api("POST", `/api/v1/email/contacts/${it.data.contact_id}/reply`, { body: text, close });
      area.value = "";
      if (close) await refresh(); else await loadThread(it);
    } catch (e) { errorLine(it, e.message); }
  }
  async function closeIt(it) {
    try {
      if (it.data.channel === "chat") await api("POST", `/api/v1/chat/contacts/${it.data.contact_id}/close`);
      else await api("POST", `/api/v1/email/contacts/${it.data.contact_id}/close`);
      await refresh();
      document.dispatchEvent(new CustomEvent("kefu:refresh"));
    } catch (e) { errorLine(it, e.message); }
  }
  async function transfer(it, queue) {
    if (!queue) { errorLine(it, t("desk.dd.transfer_pick")); return; }
    try { await api("POST", `/api/v1/desk/digital/${it.data.contact_id}/transfer`, { queue }); await refresh(); }
    catch (e) { errorLine(it, e.message); }
  }

  async function refresh() {
    let list;
    try { list = (await api("GET", "/api/v1/desk/digital")).contacts; } catch { return; }
    const seen = new Set();
    for (const d of list) {
      seen.add(d.contact_id);
      let it = items.get(d.contact_id);
      if (!it) {
        const tab = el("button", { class: "dd-tab", type: "button", role: "tab", id: `dd-tab-${d.contact_id}`, "aria-controls": `dd-panel-${d.contact_id}`, "data-dd-tab": d.contact_id }, document.createTextNode(""));
        const panel = el("div", { class: "dd-panel", role: "tabpanel", id: `dd-panel-${d.contact_id}`, "aria-labelledby": `dd-tab-${d.contact_id}`, hidden: "" });
        tab.addEventListener("click", () => { select(d.contact_id); focusOn(d.contact_id); });
        tabs.append(tab);
        panels.append(panel);
        it = { data: d, tab, panel, unread: 0 };
        items.set(d.contact_id, it);
        render(it);
      } else if (it.data.status !== d.status) {
        it.data = d;
        render(it);
      } else if (label(it.data) !== label(d)) {
        it.data = d; // the customer was identified: a new title, the conversation and the reply box stay
        retitle(it);
      }
    }
    for (const [cid, it] of items) {
      if (!seen.has(cid)) {
        it.tab.remove(); it.panel.remove(); items.delete(cid);
        if (selected === cid) selected = null;
        document.dispatchEvent(new CustomEvent("desk:focus-gone", { detail: { contact: cid } }));
      }
    }
    if ((selected === null || !items.has(selected)) && items.size) select(items.keys().next().value);
    summary();
  }

  function onLive(m) {
    if (m.type && m.type.startsWith("digital.")) { refresh(); if (m.type === "digital.ended") document.dispatchEvent(new CustomEvent("kefu:refresh")); return; }
    if (m.type === "chat.message" || m.type === "email.received") {
      const it = items.get(m.contact_id);
      if (!it) { refresh(); return; }
      if (m.message) {
        const log = it.panel.querySelector(".dd-log");
        if (log) { log.append(message(m.message, it.data.channel)); log.scrollTop = log.scrollHeight; }
      } else loadThread(it);
      if (selected !== m.contact_id) { it.unread += 1; badge(it); }
      if (m.ended) refresh();
    }
  }

  let retry = 0;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    ws.addEventListener("open", () => { retry = 0; refresh(); });
    ws.addEventListener("message", (ev) => { try { onLive(JSON.parse(ev.data)); } catch { /* not JSON */ } });
    ws.addEventListener("close", () => { retry = Math.min(retry + 1, 6); setTimeout(connect, 500 * 2 ** retry); });
  }
  // Alt+1..9 switch tabs (the desk's shortcut help lists it)
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const n = Number(ev.key);
    if (n >= 1 && n <= 9) {
      const id = [...items.keys()][n - 1];
      if (id !== undefined) { ev.preventDefault(); select(id); focusOn(id); items.get(id).tab.focus(); }
    }
  });
  document.addEventListener("desk:identified", () => refresh()); // the tab's title names the customer now
  refresh();
  connect();
  setInterval(refresh, 15000);
}
