// The customer's chat widget: start a chat, then talk over the websocket (bot first, then an agent).
const root = document.querySelector("[data-chat-widget]");
const config = JSON.parse(document.getElementById("chat-config").textContent);
const T = config.texts;
const startForm = root.querySelector("[data-start]");
const talk = root.querySelector("[data-talk]");
const log = root.querySelector("[data-log]");
const statusEl = root.querySelector("[data-status]");
const suggestBox = root.querySelector("[data-suggest]");
const sendForm = root.querySelector("[data-send]");
const text = root.querySelector("#cw-text");
const handoverBtn = root.querySelector("[data-handover]");
const endBtn = root.querySelector("[data-end]");
let socket = null;
let token = null;
let state = "bot";
let retry = 0;

const who = { customer: T["chat.w.you"], bot: T["chat.w.bot"], agent: T["chat.w.agent"], system: T["chat.w.system"] };

function show(message) {
  const li = document.createElement("li");
  li.className = `cw-msg ${message.sender}`;
  li.dataset.sender = message.sender;
  if (message.sender !== "system") {
    const label = document.createElement("span");
    label.className = "cw-who";
    label.textContent = message.sender === "agent" && message.agent_no ? `${who.agent} ${message.agent_no}` : who[message.sender];
    li.append(label);
  }
  li.append(document.createTextNode(message.text));
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

function setState(next) {
  state = next;
  handoverBtn.hidden = state !== "bot";
  const ended = state === "ended";
  text.disabled = ended;
  root.querySelector("[data-send-button]").disabled = ended;
  endBtn.hidden = ended;
  statusEl.textContent = ended ? T["chat.w.ended"] : state === "bot" ? T["chat.w.bot"] : state === "queued" ? T["chat.w.handover"] : T["chat.w.agent"];
}

function suggestions(list, offerAgent) {
  suggestBox.replaceChildren();
  for (const q of list || []) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = q;
    b.addEventListener("click", () => send({ type: "message", text: q }));
    suggestBox.append(b);
  }
  suggestBox.hidden = !suggestBox.children.length;
  if (offerAgent && state === "bot") handoverBtn.classList.add("btn-primary");
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  else statusEl.textContent = T["chat.w.offline"];
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/chat/ws`);
  statusEl.textContent = T["chat.w.connecting"];
  socket.addEventListener("open", () => {
    retry = 0;
    socket.send(JSON.stringify({ type: "auth", token }));
  });
  socket.addEventListener("message", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "history") {
      log.replaceChildren();
      m.messages.forEach(show);
      setState(m.state);
    } else if (m.type === "message") {
      show(m.message);
      if (m.message.sender === "bot") suggestions(m.suggestions, m.offer_agent);
    } else if (m.type === "state") {
      if (m.message) show(m.message);
      setState(m.state);
      suggestions([], false);
    } else if (m.type === "error") {
      statusEl.textContent = `${T["chat.w.error"]} ${m.message}`;
    }
  });
  socket.addEventListener("close", () => {
    if (state === "ended") return;
    statusEl.textContent = T["chat.w.offline"];
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * 2 ** retry);
  });
}

startForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = root.querySelector("[data-start-error]");
  err.hidden = true;
  const form = new FormData(startForm);
  const body = { topic: form.get("topic"), locale: config.locale, name: form.get("name") || null, phone: form.get("phone") || null };
  const r = await fetch("/api/v1/chat/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    err.textContent = data.detail || T["chat.w.error"];
    err.hidden = false;
    return;
  }
  token = data.token;
  sessionStorage.setItem("kefu-chat-token", token);
  startForm.hidden = true;
  talk.hidden = false;
  data.messages.forEach(show);
  setState(data.state);
  connect();
  text.focus();
});

sendForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = text.value.trim();
  if (!value) return;
  send({ type: "message", text: value });
  text.value = "";
});
text.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    sendForm.requestSubmit();
  }
});
handoverBtn.addEventListener("click", () => send({ type: "handover" }));
endBtn.addEventListener("click", () => send({ type: "end" }));

const saved = sessionStorage.getItem("kefu-chat-token");
if (saved) {
  token = saved;
  startForm.hidden = true;
  talk.hidden = false;
  connect();
}
