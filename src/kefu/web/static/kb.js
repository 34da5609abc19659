// Kefu knowledge base. On /kb: results as the agent types (debounced, the previous request aborted, not
// while an IME is composing), keyboard selection (↑/↓, Enter opens the highlighted result, Enter without
// one runs a logged search, Esc clears). On an entry: Esc or "/" goes back to the results. Without
// JavaScript the search form is a plain GET and the server answers with the results page.

const DEBOUNCE_MS = 150;
const WEAK = 0.45;

const fmt = (text, params = {}) => String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));

const isField = (el) => {
  const tag = (el && el.tagName ? el.tagName : "").toLowerCase();
  return ["input", "textarea", "select"].includes(tag) || (el && el.isContentEditable);
};

// Only <mark> survives from the API's snippet_html (already escaped there); everything else is text.
function safeSnippet(html) {
  const doc = new DOMParser().parseFromString(`<div>${html || ""}</div>`, "text/html");
  const out = document.createDocumentFragment();
  const copy = (node, into) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        into.append(child.textContent);
      } else if (child.nodeType === Node.ELEMENT_NODE && child.tagName === "MARK") {
        const mark = document.createElement("mark");
        copy(child, mark);
        into.append(mark);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        copy(child, into);
      }
    }
  };
  copy(doc.body.firstElementChild, out);
  return out;
}

function initSearch(form) {
  const input = document.getElementById("kb-q");
  const category = form.querySelector("[data-kb-category]");
  const list = document.querySelector("[data-kb-results]");
  const status = document.querySelector("[data-kb-status]");
  const forward = document.querySelector("[data-kb-forward]");
  const forwardQuestion = document.querySelector("[data-kb-forward-question]");
  const weakNotice = document.querySelector("[data-kb-weak]");
  const forwardLink = document.querySelector("[data-kb-forward-link]");
  const template = document.getElementById("kb-result-template");
  const config = JSON.parse(document.getElementById("kb-config").textContent);
  const texts = config.texts || {};

  let timer = null;
  let controller = null;
  let active = -1;
  let composing = false;

  const options = () => Array.from(list.querySelectorAll("[role=option]"));

  function setActive(index) {
    const opts = options();
    active = opts.length ? Math.max(-1, Math.min(index, opts.length - 1)) : -1;
    opts.forEach((el, i) => {
      el.setAttribute("aria-selected", i === active ? "true" : "false");
      el.classList.toggle("active", i === active);
    });
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", opts[active].id);
      opts[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function articleHref(item, query) {
    const params = new URLSearchParams({ q: query });
    if (config.contact) params.set("contact", String(config.contact));
    return `/kb/articles/${encodeURIComponent(item.entry_id)}?${params}`;
  }

  function showStatus(text, tookMs) {
    status.textContent = text;
    if (typeof tookMs === "number") {
      const took = document.createElement("span");
      took.className = "hint";
      took.textContent = ` ${fmt(texts["kb.js.took"], { ms: Math.round(tookMs * 10) / 10 })}`;
      status.append(took);
    }
  }

  // typing: a notice only when nothing at all was found; Enter: also when the best result is weak
  function render(data, query, typing) {
    const items = data.items || [];
    const rows = items.map((item, i) => {
      const li = template.content.firstElementChild.cloneNode(true);
      const href = articleHref(item, query);
      const confidence = Number(item.confidence || 0);
      const pct = Math.round(confidence * 100);
      li.id = `kb-r-${i}`;
      li.dataset.href = href;
      li.dataset.entry = String(item.entry_id);
      li.classList.toggle("weak", confidence < WEAK);
      const link = li.querySelector(".kb-q");
      link.href = href;
      if (item.question_html) link.append(safeSnippet(item.question_html));
      else link.textContent = item.question || "";
      link.title = item.key || "";
      li.querySelector("meter").value = confidence;
      li.querySelector(".kb-conf").title = fmt(texts["kb.js.confidence"], { n: pct });
      li.querySelector(".kb-pct").textContent = `${pct}%`;
      li.querySelector(".kb-cat").textContent = item.category || "";
      const snip = li.querySelector(".kb-snippet");
      // the closest similar question; when that is the question itself, the answer's start instead
      if (item.snippet_html && item.matched !== item.question) snip.append(safeSnippet(item.snippet_html));
      else if (item.answer_preview) snip.textContent = item.answer_preview;
      else snip.remove();
      return li;
    });
    list.replaceChildren(...rows);
    setActive(-1);
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
    showStatus(items.length ? fmt(texts["kb.js.count"], { n: items.length }) : texts["kb.js.none"], data.took_ms);
    if (forwardQuestion && document.activeElement !== forwardQuestion) forwardQuestion.value = query;
    const good = items.length > 0 && data.matched !== false;
    if (weakNotice) weakNotice.hidden = typing ? items.length > 0 : good;
    return good;
  }

  function clearResults() {
    list.replaceChildren();
    setActive(-1);
    input.setAttribute("aria-expanded", "false");
    status.textContent = texts["kb.js.start"] || "";
    if (weakNotice) weakNotice.hidden = true;
  }

  function remember(query) {
    const url = new URL(window.location.href);
    if (query) url.searchParams.set("q", query);
    else url.searchParams.delete("q");
    if (category && category.value) url.searchParams.set("category_id", category.value);
    else url.searchParams.delete("category_id");
    window.history.replaceState(null, "", url);
  }

  // typing=1: results while typing (not logged); typing=0: the agent pressed Enter (a query without a
  // good result is logged for the editors).
  async function search(typing) {
    const query = input.value.trim();
    if (controller) controller.abort();
    controller = null;
    if (!query) {
      clearResults();
      remember("");
      return;
    }
    const mine = new AbortController();
    controller = mine;
    const params = new URLSearchParams({ q: query, top: String(config.top || 10), typing: typing ? "1" : "0" });
    if (category && category.value) params.set("category_id", category.value);
    status.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`${config.api}?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: mine.signal,
      });
      if (!response.ok) {
        let detail = "";
        try {
          detail = (await response.json()).detail || "";
        } catch {
          detail = "";
        }
        showStatus(`${texts["error.generic"]}${detail ? `: ${detail}` : ""}`);
        return;
      }
      const data = await response.json();
      if (controller !== mine || input.value.trim() !== query) return; // typed on meanwhile
      const good = render(data, query, typing);
      remember(query);
      if (!typing && forward && !good) forward.open = true;
    } catch (error) {
      if (error.name !== "AbortError") showStatus(texts["error.network"]);
    } finally {
      if (controller === mine) status.removeAttribute("aria-busy");
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => search(true), DEBOUNCE_MS);
  }

  input.addEventListener("input", (event) => {
    if (composing || event.isComposing) return; // wait for the IME to finish the characters
    schedule();
  });
  input.addEventListener("compositionstart", () => {
    composing = true;
  });
  input.addEventListener("compositionend", () => {
    composing = false;
    schedule();
  });
  if (category) {
    category.addEventListener("change", () => {
      window.clearTimeout(timer);
      search(true);
      input.focus();
    });
  }

  input.addEventListener("keydown", (event) => {
    if (composing || event.isComposing) return;
    const count = options().length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      setActive(active + 1 >= count ? 0 : active + 1);
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      setActive(active <= 0 ? count - 1 : active - 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const opts = options();
      if (active >= 0 && opts[active]) {
        window.location.assign(opts[active].dataset.href);
        return;
      }
      window.clearTimeout(timer);
      search(false);
    } else if (event.key === "Escape") {
      if (active >= 0) {
        setActive(-1);
      } else if (input.value) {
        input.value = "";
        clearResults();
        remember("");
      }
    }
  });

  // The search button behaves like Enter (a logged search, without reloading the page).
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    search(false);
    input.focus();
  });

  if (forwardLink && forward) {
    forwardLink.addEventListener("click", (event) => {
      event.preventDefault();
      forward.open = true;
      forwardQuestion.focus();
    });
  }

  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option && !event.target.closest("a")) window.location.assign(option.dataset.href);
  });
  list.addEventListener("mousemove", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) {
      const index = options().indexOf(option);
      if (index !== active) setActive(index);
    }
  });

  // "/" anywhere outside a field jumps back to the search box.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isField(event.target)) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

function initArticle() {
  const back = document.querySelector("[data-kb-back]");
  if (!back) return;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isField(event.target)) return;
    if (document.querySelector("details.menu[open]")) return; // Esc closes the language menu first
    if (event.key === "Escape" || event.key === "/") {
      event.preventDefault();
      window.location.assign(back.href);
    }
  });
}

const searchForm = document.querySelector("[data-kb-search]");
if (searchForm) initSearch(searchForm);
else initArticle();
