// Kefu agent desktop (the panels beside the call): finding and picking the caller, revealing a field with
// a purpose, the knowledge search with "attach to contact", business dialogs in a frame, and keyboard
// shortcuts. Every form here also works without JavaScript (it posts to the page, or opens a new tab).

import { api, fmt, live, refresh, showError, showInfo, texts } from "./phone.js";

const $ = (sel, root = document) => root.querySelector(sel);
const focusContact = () => Number(live.dataset.focusContact || 0) || null;

// ---- the customer search for an unidentified caller, and picking one --------------------------------
async function postForm(form) {
  const response = await fetch(form.action, {
    method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
    headers: { Accept: "text/html" }, redirect: "manual",
  });
  if (response.status === 401) window.location.reload();
  return response;
}

async function find(form) {
  if (form.elements.focus) form.elements.focus.value = live.dataset.digitalFocus || ""; // the tab chosen since
  const response = await postForm(form);
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = doc.querySelector('[data-section="customer"]');
  const current = $('[data-section="customer"]', live);
  if (fresh && current) {
    current.replaceWith(fresh);
    ($("[data-pick-customer]", fresh) || $("[data-find-input]", fresh))?.focus();
  }
}

async function pick(form) {
  const response = await postForm(form);
  if (response.type !== "opaqueredirect" && !response.ok) {
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.querySelector('[data-section="customer"]');
    if (fresh) $('[data-section="customer"]', live)?.replaceWith(fresh);
    return;
  }
  showInfo(texts["desk.js.picked"], "success");
  document.dispatchEvent(new CustomEvent("desk:identified", { detail: { contact: Number(form.dataset.contact) } }));
  await refresh();
}

// ---- reveal one field with a purpose: shown in the panel for a minute, then hidden again ---------------
let revealTimer = null;
async function reveal(form) {
  const [field, phoneId] = form.elements.field.value.split(":");
  const body = { field, purpose: form.elements.purpose.value.trim() };
  if (phoneId) body.phone_id = Number(phoneId);
  const out = await api("POST", `/api/v1/customers/${form.dataset.customer}/reveal`, body);
  const box = $("[data-revealed]", form.closest("section"));
  if (!box) return;
  const label = form.elements.field.selectedOptions[0]?.textContent || field;
  box.textContent = fmt(texts["desk.js.revealed"], { field: label.trim(), value: out.value ?? "—" });
  box.hidden = false;
  form.reset();
  form.closest("details").open = false;
  clearTimeout(revealTimer);
  revealTimer = setTimeout(() => {
    box.textContent = texts["desk.js.reveal_hidden"];
    setTimeout(() => { box.hidden = true; }, 3000);
  }, 60000);
}

// ---- knowledge search and "attach to contact" ----------------------------------------------------------
function kbLine(item) {
  return `${item.key} ${item.question}`.slice(0, 200);
}

function addToWrapup(contactId, line) {
  const area = $(`[data-wrapup="${contactId}"] textarea[name=kb_entries]`, live);
  if (!area) return; // still on the call: the wrap-up form fills in the attached entries when it opens
  const lines = area.value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (!lines.includes(line)) area.value = [...lines, line].join("\n");
}

function kbResult(item) {
  const li = document.createElement("li");
  li.className = "desk-kb-item";
  const head = document.createElement("a");
  head.href = `/kb/articles/${item.entry_id}?embed=1${focusContact() ? `&contact=${focusContact()}` : ""}`;
  head.className = "desk-kb-q";
  head.dataset.openDialog = "kb";
  head.dataset.dialogTitle = item.question;
  head.textContent = item.question;
  const meta = document.createElement("span");
  meta.className = "muted";
  meta.textContent = ` ${item.key} · ${item.category}`;
  const preview = document.createElement("p");
  preview.className = "desk-kb-preview";
  preview.textContent = item.answer_preview;
  const attach = document.createElement("button");
  attach.type = "button";
  attach.className = "btn btn-small";
  attach.dataset.kbAttach = String(item.entry_id);
  attach.dataset.kbLine = kbLine(item);
  attach.textContent = texts["desk.js.kb_attach"];
  li.append(head, meta, preview, attach);
  return li;
}

async function kbSearch(form) {
  const q = form.elements.q.value.trim();
  const box = $("[data-kb-results]", form.closest("section"));
  if (!q || !box) return;
  const data = await api("GET", `/api/v1/kb/search?${new URLSearchParams({ q, top: "5" })}`);
  if (!data.items.length) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = texts["desk.js.kb_none"];
    box.replaceChildren(p);
    return;
  }
  const list = document.createElement("ol");
  list.className = "plain-list desk-kb-list";
  list.setAttribute("role", "list");
  list.append(...data.items.map(kbResult));
  box.replaceChildren(list);
}

async function kbAttach(button) {
  const contactId = focusContact();
  if (!contactId) {
    showInfo(texts["desk.js.kb_no_contact"], "warn");
    return;
  }
  button.disabled = true;
  try {
    await api("POST", `/api/v1/kb/entries/${button.dataset.kbAttach}/attach`, { contact_id: contactId });
    addToWrapup(contactId, button.dataset.kbLine);
    button.textContent = texts["desk.js.kb_attached"];
    button.dataset.attached = String(contactId);
  } catch (problem) {
    button.disabled = false;
    showError(problem);
  }
}

// ---- business dialogs: the customer pages in a frame, so the desktop never reloads ----------------------
const dialog = $("[data-desk-dialog]");
const frame = $("[data-dialog-frame]");
function openDialog(link) {
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin) return false;
  url.searchParams.set("embed", "1");
  $("[data-dialog-title]", dialog).textContent = link.dataset.dialogTitle || link.textContent.trim();
  $("[data-dialog-newtab]", dialog).href = url.pathname + url.search.replace(/([?&])embed=1&?/, "$1").replace(/[?&]$/, "") + url.hash;
  dialog.dataset.kind = link.dataset.openDialog;
  frame.src = url.pathname + url.search + url.hash;
  dialog.showModal();
  return true;
}
$("[data-dialog-close]", dialog).addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  frame.src = "about:blank";
  refresh(); // a verification, loss report or transfer may have changed what the panel shows
});

// ---- one listener for the panel's forms and buttons -----------------------------------------------------
const HANDLERS = { find, pick, reveal, kb: kbSearch };
document.addEventListener("submit", async (event) => {
  const form = event.target;
  const kind = form.dataset && form.dataset.desk;
  if (!kind || !HANDLERS[kind] || !live.contains(form)) return;
  event.preventDefault();
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await HANDLERS[kind](form);
  } catch (problem) {
    showError(problem && problem.code ? problem : { code: "network", detail: "" });
  } finally {
    buttons.forEach((b) => { if (b.isConnected) b.disabled = false; });
  }
});

document.addEventListener("click", (event) => {
  const attach = event.target.closest("[data-kb-attach]");
  if (attach && !attach.dataset.attached) {
    kbAttach(attach);
    return;
  }
  const link = event.target.closest("a[data-open-dialog]");
  if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && openDialog(link)) event.preventDefault();
});

// ---- keyboard shortcuts ---------------------------------------------------------------------------------
const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
const clickFirst = (...selectors) => {
  for (const sel of selectors) {
    const el = $(sel, live);
    if (el && !el.disabled) {
      el.click();
      return true;
    }
  }
  return false;
};
const focusField = (sel) => {
  const el = $(sel, live);
  if (!el) return false;
  el.closest("details")?.setAttribute("open", "");
  el.scrollIntoView({ block: "nearest" });
  el.focus();
  return true;
};
const ACTIONS = {
  KeyA: () => clickFirst("[data-accept]"),
  KeyH: () => clickFirst("[data-connected] [data-resume]", "[data-connected] [data-hold]"),
  KeyE: () => clickFirst("[data-hangup]"),
  KeyR: () => clickFirst("[data-go-ready]"),
  KeyN: () => clickFirst("[data-go-not-ready]"),
  KeyK: () => focusField("[data-kb-input]"),
  KeyC: () => focusField("[data-find-input]"),
  KeyW: () => focusField("[data-wrapup] select[name=category_id]"),
};
function switchTab(n) {
  const tabs = Array.from(document.querySelectorAll('[role="tablist"] [role="tab"]'));
  const tab = tabs[n - 1];
  if (!tab) return false;
  tab.click();
  tab.focus();
  return true;
}
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || dialog.open) return;
  if (event.altKey && !event.shiftKey) {
    const digit = /^Digit([1-9])$/.exec(event.code);
    const done = digit ? switchTab(Number(digit[1])) : ACTIONS[event.code] ? ACTIONS[event.code]() : null;
    if (done !== null) event.preventDefault();
    if (done === false && !digit) showInfo(texts["desk.js.shortcut_busy"], "info");
    return;
  }
  if (event.key === "?" && !event.altKey && !typing(document.activeElement)) {
    const help = document.getElementById("desk-keys");
    if (help && help.togglePopover) {
      help.togglePopover();
      event.preventDefault();
    }
  }
});

// ---- which contact the panels are about: the call, or the chat / e-mail tab the agent selected ------------
function focusOn(contactId) {
  const next = contactId ? String(contactId) : "";
  if ((live.dataset.digitalFocus || "") === next) return;
  live.dataset.digitalFocus = next;
  refresh();
}
document.addEventListener("desk:focus", (event) => focusOn(event.detail && event.detail.contact));
document.addEventListener("desk:focus-gone", (event) => {
  if (event.detail && String(event.detail.contact) === live.dataset.digitalFocus) focusOn(null);
});
document.addEventListener("kefu:refresh", () => refresh());
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-desk-focus]")) focusOn(event.target.closest("[data-desk-focus]").dataset.deskFocus);
});

// keep the wrap-up's KB field in step with what was attached while the call was on
document.addEventListener("desk:refreshed", () => {
  for (const button of document.querySelectorAll("[data-kb-attach][data-attached]")) {
    addToWrapup(button.dataset.attached, button.dataset.kbLine);
  }
});
