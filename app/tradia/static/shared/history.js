// The history of finished tasks, kept in this browser only (localStorage), and its side panel.
import { $, element } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

const HISTORY_KEY = "tradia.history";
const HISTORY_MAX = 30;
const HISTORY_TEXT_MAX = 5000;

let restore = () => {};

function loadHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}

export function addHistory(task, input, output) {
  const items = loadHistory();
  items.unshift({ task, at: new Date().toISOString(), input: input.slice(0, HISTORY_TEXT_MAX), output: output.slice(0, HISTORY_TEXT_MAX) });
  localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_MAX)));
  renderHistory();
}

export function renderHistory() {
  const list = $("history-list");
  const items = loadHistory();
  if (!items.length) {
    list.replaceChildren(element("li", { class: "muted" }, t("history_empty")));
    return;
  }
  list.replaceChildren(...items.map((item) => {
    const when = new Date(item.at).toLocaleString(state.ui);
    const button = element("button", { type: "button", dir: "auto" },
      `${t(`task_${item.task}`)} · ${when}\n${item.input.slice(0, 120)}`);
    button.addEventListener("click", () => restore(item));
    return element("li", {}, button);
  }));
}

// onRestore(item) puts a history item back into its tab.
export function setupHistory(onRestore) {
  restore = onRestore;
  const panel = $("history");
  const toggle = $("history-toggle");
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
  });
  const close = () => {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  };
  $("history-close").addEventListener("click", close);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !panel.hidden) close(); });
  $("history-clear").addEventListener("click", () => {
    localStorage.removeItem(HISTORY_KEY);
    renderHistory();
  });
}
