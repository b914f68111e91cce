import { readNdjson } from "./ndjson.js";
import { STRINGS } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const HISTORY_KEY = "tradia.history";
const HISTORY_MAX = 30;
const HISTORY_TEXT_MAX = 5000;

const state = {
  ui: localStorage.getItem("tradia.ui") || "fr",
  settings: null,
  upstreamDown: false,
  detected: null,
  minutesMarkdown: "",
};

// ---------- strings ----------
function t(key, vars = {}) {
  let text = (STRINGS[state.ui] || STRINGS.fr)[key] ?? STRINGS.fr[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

function languageLabel(code) {
  const entry = state.settings?.languages.find((l) => l.code === code);
  return entry ? entry.labels[state.ui] || code : code;
}

function applyStrings() {
  document.documentElement.lang = state.ui;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  $("ui-lang-toggle").textContent = state.ui === "fr" ? "EN" : "FR";
  $("ui-lang-toggle").setAttribute("aria-label", state.ui === "fr" ? "English" : "Français");
  if (state.settings) fillSelects();
  renderHistory();
  for (const id of ["tr", "co", "re", "mi"]) updateCounter(id);
}

// ---------- theme ----------
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
function toggleTheme() {
  const current = document.documentElement.dataset.theme
    || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  localStorage.setItem("tradia.theme", next);
  applyTheme(next);
}

// ---------- tabs (WAI-ARIA tabs pattern: arrows, Home, End) ----------
function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
    sessionStorage.setItem("tradia.tab", tab.id);
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      select(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
    });
  });
  const saved = $(sessionStorage.getItem("tradia.tab") || "");
  if (saved) select(saved, false);
}

// ---------- settings ----------
function option(value, label, selected = false) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = label;
  el.selected = selected;
  return el;
}

function fillLanguageSelect(select, withAuto, fallback) {
  const previous = select.value || fallback;
  select.replaceChildren();
  if (withAuto) select.append(option("auto", t("auto")));
  for (const lang of state.settings.languages) select.append(option(lang.code, lang.labels[state.ui] || lang.code));
  select.value = [...select.options].some((o) => o.value === previous) ? previous : select.options[0].value;
}

function fillSelects() {
  const s = state.settings;
  const codes = s.languages.map((l) => l.code);
  const defaultTarget = codes.find((c) => c !== "fr") || codes[0];
  fillLanguageSelect($("tr-source"), true, "auto");
  fillLanguageSelect($("tr-target"), false, defaultTarget);
  fillLanguageSelect($("do-source"), true, "auto");
  fillLanguageSelect($("do-target"), false, defaultTarget);
  const miLanguage = $("mi-language");
  const previousMi = miLanguage.value || state.ui;
  miLanguage.replaceChildren(...s.ui_languages.map((c) => option(c, languageLabel(c), c === previousMi)));
  const tone = $("re-tone");
  const previousTone = tone.value;
  tone.replaceChildren(...s.tones.map((x) => option(x.id, x.labels[state.ui] || x.id, x.id === previousTone)));
  const models = $("model-select");
  const chosen = models.value || localStorage.getItem("tradia.model");
  const entries = s.models.length ? s.models : [{ name: s.default_model, default: true, vision: false }];
  models.replaceChildren(...entries.map((m) => option(m.name, m.default ? `${m.name} ${t("model_default")}` : m.name)));
  if (entries.some((m) => m.name === chosen)) models.value = chosen;
  $("do-formats").textContent = `(${s.features.document_extensions.join(", ")})`;
  $("do-files").accept = s.features.document_extensions.join(",");
  updatePhotoRow();
}

function currentModel() {
  return state.settings?.models.find((m) => m.name === $("model-select").value);
}

function updatePhotoRow() {
  const vision = currentModel()?.vision === true;
  $("mi-photo-row").hidden = !vision;
  const visionModels = (state.settings?.models || []).filter((m) => m.vision).map((m) => m.name);
  $("mi-photo-hint").hidden = vision || visionModels.length === 0;
  $("mi-photo-hint").textContent = t("photo_hint", { models: visionModels.join(", ") });
  if (!vision) $("mi-photo").value = "";
}

async function loadSettings() {
  const response = await fetch("/api/settings");
  state.settings = await response.json();
  const banner = $("banner");
  state.upstreamDown = Boolean(state.settings.upstream_error);
  if (state.upstreamDown) {
    banner.textContent = errorMessage(state.settings.upstream_error);
    banner.hidden = false;
  } else banner.hidden = true;
  fillSelects();
  for (const id of ["tr", "co", "re", "mi"]) updateCounter(id);
}

// ---------- AI server watch ----------
// The banner tells users the AI server is down before they try a task, and goes away by itself
// when the server is back (the model list is then reloaded).
const READY_POLL_MS = 5000;

async function checkReady() {
  if (document.hidden) return;
  let response;
  try {
    response = await fetch("/readyz", { cache: "no-store" });
  } catch {
    return; // Tradia itself is unreachable: the next task says so.
  }
  const banner = $("banner");
  if (response.status === 503) {
    const payload = await response.json().catch(() => null);
    banner.textContent = errorMessage({ error: payload?.reason, message: payload?.message }, 503);
    banner.hidden = false;
    state.upstreamDown = true;
  } else if (response.ok && state.upstreamDown) {
    state.upstreamDown = false;
    banner.hidden = true;
    await loadSettings().catch(() => {});
  }
}

// ---------- counters ----------
function updateCounter(prefix) {
  const input = $(`${prefix}-input`);
  const counter = $(`${prefix}-count`);
  if (!input || !counter || !state.settings) return;
  const max = state.settings.limits.max_chars;
  counter.textContent = t("count", { n: input.value.length, max });
  counter.classList.toggle("over", input.value.length > max);
}

function checkText(prefix, statusEl, { allowEmpty = false } = {}) {
  const text = $(`${prefix}-input`).value;
  const max = state.settings.limits.max_chars;
  if (!allowEmpty && !text.trim()) return showError(statusEl, t("empty_input")), null;
  if (text.length > max) return showError(statusEl, t("too_long", { n: text.length, max })), null;
  return text;
}

// ---------- status ----------
function setStatus(el, text) {
  el.replaceChildren(document.createTextNode(text));
}
function showError(el, message) {
  const box = document.createElement("span");
  box.className = "error";
  box.textContent = message;
  el.replaceChildren(box);
}
function showDone(el, event) {
  const parts = [t("done")];
  if (event.stats) {
    parts.push(t("stats", {
      tokens: event.stats.completion_tokens,
      seconds: (event.stats.duration_ms / 1000).toFixed(1),
    }));
  }
  el.replaceChildren(document.createTextNode(parts.join(" · ")));
  if (event.truncated) {
    const badge = document.createElement("span");
    badge.className = "badge truncated";
    badge.textContent = t("truncated");
    el.append(" ", badge);
  }
}

// ---------- streaming task runner ----------
// Upstream failures are explained in the interface language; other refusals (limits, formats)
// carry the server's own message.
function errorMessage(payload, status) {
  const localized = payload?.error && STRINGS[state.ui][`err_${payload.error}`];
  if (localized) return localized;
  if (payload?.message) return payload.message;
  if (Array.isArray(payload?.detail)) return payload.detail.map((d) => d.msg).join("; ");
  return payload?.detail ? String(payload.detail) : `HTTP ${status}`;
}

async function runStream({ prefix, url, body, onToken, onEvent }) {
  const run = $(`${prefix}-run`);
  const stop = $(`${prefix}-stop`);
  const status = $(`${prefix}-status`);
  const controller = new AbortController();
  run.disabled = true;
  stop.hidden = false;
  stop.onclick = () => controller.abort();
  setStatus(status, t("started"));
  let outcome = null;
  try {
    const init = { method: "POST", signal: controller.signal, headers: { Accept: "application/x-ndjson" } };
    if (body instanceof FormData) init.body = body;
    else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(url, init);
    if (!response.ok) {
      const payload = await response.json().catch(() => null);
      showError(status, errorMessage(payload, response.status));
      return { error: payload };
    }
    for await (const event of readNdjson(response.body)) {
      if (event.type === "queued") setStatus(status, t("queued", { n: event.position }));
      else if (event.type === "started") setStatus(status, t("started"));
      else if (event.type === "token") onToken?.(event.text);
      else if (event.type === "error") {
        showError(status, errorMessage(event));
        outcome = { error: event };
      } else if (event.type === "done") {
        showDone(status, event);
        outcome = { done: event };
      } else onEvent?.(event);
    }
    // A stream must end with done or error: anything else was cut on the way.
    if (!outcome) {
      showError(status, t("lost"));
      outcome = { error: { error: "stream_cut" } };
    }
  } catch (error) {
    if (error.name === "AbortError") setStatus(status, t("stopped"));
    else showError(status, t("lost"));
    outcome = { error: { error: error.name } };
  } finally {
    run.disabled = false;
    stop.hidden = true;
  }
  return outcome;
}

// ---------- copy / download ----------
async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API needs a secure context: fall back to a selection copy.
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = t("copied");
  setTimeout(() => { button.textContent = label; }, 1200);
}

function downloadBlob(blob, filename, link) {
  const anchor = link || document.createElement("a");
  if (anchor.href.startsWith("blob:")) URL.revokeObjectURL(anchor.href);
  anchor.href = URL.createObjectURL(blob);
  anchor.download = filename;
  if (!link) anchor.click();
}

// ---------- history (this browser only) ----------
function loadHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}
function addHistory(task, input, output) {
  const items = loadHistory();
  items.unshift({ task, at: new Date().toISOString(), input: input.slice(0, HISTORY_TEXT_MAX), output: output.slice(0, HISTORY_TEXT_MAX) });
  localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_MAX)));
  renderHistory();
}
function renderHistory() {
  const list = $("history-list");
  const items = loadHistory();
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = t("history_empty");
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dir = "auto";
    const when = new Date(item.at).toLocaleString(state.ui);
    button.textContent = `${t(`task_${item.task}`)} · ${when}\n${item.input.slice(0, 120)}`;
    button.addEventListener("click", () => restoreHistory(item));
    li.append(button);
    return li;
  }));
}
function restoreHistory(item) {
  const prefixes = { translate: "tr", correct: "co", reformulate: "re", minutes: "mi" };
  const prefix = prefixes[item.task];
  if (!prefix) return;
  $(`tab-${item.task}`).click();
  $(`${prefix}-input`).value = item.input;
  updateCounter(prefix);
  if (prefix === "tr") $("tr-output").textContent = item.output;
}

// ---------- translation ----------
async function translate() {
  const status = $("tr-status");
  const text = checkText("tr", status);
  if (text === null) return;
  const output = $("tr-output");
  output.textContent = "";
  output.classList.remove("partial");
  output.lang = $("tr-target").value;
  // The translation's direction follows the target language; dir="auto" otherwise.
  const rtl = state.settings.languages.find((l) => l.code === output.lang)?.rtl;
  output.dir = rtl ? "rtl" : "auto";
  $("tr-glossary").textContent = "";
  $("tr-detected").textContent = "";
  state.detected = null;
  const outcome = await runStream({
    prefix: "tr",
    url: "/api/translate",
    body: { text, source: $("tr-source").value, target: $("tr-target").value, model: $("model-select").value },
    onToken: (piece) => output.append(piece),
    onEvent: (event) => {
      if (event.type === "detected" && event.language) {
        state.detected = event.language;
        $("tr-detected").textContent = t("detected", { lang: languageLabel(event.language) });
      } else if (event.type === "result") {
        output.textContent = event.text;
        if (event.glossary?.length) {
          const ok = event.glossary.filter((g) => g.applied).length;
          $("tr-glossary").textContent = t("glossary_applied", { ok, all: event.glossary.length });
        }
      }
    },
  });
  if (outcome?.done) addHistory("translate", text, output.textContent);
  // A failed stream's partial text is not a translation: remove it. A stopped one stays, marked.
  else if (outcome?.error?.error === "AbortError") output.classList.add("partial");
  else output.textContent = "";
}

function swapLanguages() {
  const source = $("tr-source");
  const target = $("tr-target");
  const from = source.value === "auto" ? state.detected : source.value;
  if (!from) return;
  const to = target.value;
  source.value = to;
  target.value = from;
  const translated = $("tr-output").textContent;
  if (translated) {
    $("tr-input").value = translated;
    $("tr-output").textContent = "";
    updateCounter("tr");
  }
}

// ---------- correction & reformulation ----------
function renderDiff(container, ops) {
  container.replaceChildren(...ops.map((op) => {
    if (op.op === "equal") return document.createTextNode(op.text);
    const el = document.createElement(op.op === "insert" ? "ins" : "del");
    el.textContent = op.text;
    return el;
  }));
}

function renderWarnings(el, changes) {
  el.hidden = !changes.length;
  el.textContent = changes.length
    ? t("protected", { items: changes.map((c) => `${c.value} (${t(`kind_${c.kind}`)})`).join(", ") })
    : "";
}

function changeItem(before, after, reason) {
  const li = document.createElement("li");
  li.dir = "auto";
  const del = document.createElement("del");
  del.textContent = before;
  const ins = document.createElement("ins");
  ins.textContent = after;
  li.append(del, " → ", ins, reason ? ` : ${reason}` : "");
  return li;
}

async function structuredTask({ prefix, task, url, body, render }) {
  const live = $(`${prefix}-live`);
  const result = $(`${prefix}-result`);
  live.textContent = "";
  live.hidden = false;
  result.hidden = true;
  let final = null;
  const outcome = await runStream({
    prefix, url, body,
    onToken: (piece) => live.append(piece),
    onEvent: (event) => { if (event.type === "result") final = event; },
  });
  if (outcome?.done && final) {
    live.hidden = true;
    result.hidden = false;
    const output = render(final);
    addHistory(task, body instanceof FormData ? body.get("notes") || "" : body.text, output);
  }
}

function correct() {
  const text = checkText("co", $("co-status"));
  if (text === null) return;
  structuredTask({
    prefix: "co", task: "correct", url: "/api/correct",
    body: { text, model: $("model-select").value, ui_language: state.ui },
    render: (r) => {
      renderDiff($("co-diff"), r.diff);
      $("co-output").textContent = r.corrected_text;
      renderWarnings($("co-warnings"), r.protected_changes);
      const list = $("co-explanations");
      list.replaceChildren(...r.explanations.map((e) => changeItem(e.original, e.correction, e.explanation)));
      if (!r.explanations.length) list.replaceChildren(Object.assign(document.createElement("li"), { textContent: t("no_changes") }));
      return r.corrected_text;
    },
  });
}

function reformulate() {
  const text = checkText("re", $("re-status"));
  if (text === null) return;
  structuredTask({
    prefix: "re", task: "reformulate", url: "/api/reformulate",
    body: { text, tone: $("re-tone").value, model: $("model-select").value, ui_language: state.ui },
    render: (r) => {
      $("re-output").textContent = r.text;
      renderWarnings($("re-warnings"), r.protected_changes);
      $("re-changes").replaceChildren(...r.changes.map((c) => changeItem(c.before, c.after, c.reason)));
      return r.text;
    },
  });
}

// ---------- minutes ----------
function heading(text) {
  const h = document.createElement("h3");
  h.textContent = text;
  return h;
}

function renderMinutes(r) {
  const container = $("mi-output");
  const labels = (key) => t(key);
  const nodes = [];
  if (r.title) nodes.push(Object.assign(document.createElement("h2"), { textContent: r.title }));
  nodes.push(heading(labels("summary")), Object.assign(document.createElement("p"), { textContent: r.summary }));
  nodes.push(heading(labels("decisions")));
  const decisions = document.createElement("ul");
  for (const d of r.decisions.length ? r.decisions : [labels("none")]) decisions.append(Object.assign(document.createElement("li"), { textContent: d }));
  nodes.push(decisions, heading(labels("actions")));
  if (r.actions.length) {
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const key of ["actions", "owner", "due"]) head.append(Object.assign(document.createElement("th"), { textContent: labels(key) }));
    const tbody = table.createTBody();
    for (const a of r.actions) {
      const row = tbody.insertRow();
      for (const key of ["action", "owner", "due_date"]) row.insertCell().textContent = a[key];
    }
    nodes.push(table);
  } else nodes.push(Object.assign(document.createElement("p"), { textContent: labels("none") }));
  container.replaceChildren(...nodes);
  state.minutesMarkdown = r.markdown;
  return r.markdown;
}

function minutes() {
  const status = $("mi-status");
  const photo = $("mi-photo").files[0];
  const text = checkText("mi", status, { allowEmpty: Boolean(photo) });
  if (text === null) return;
  const form = new FormData();
  form.append("notes", text);
  form.append("language", $("mi-language").value);
  form.append("model", $("model-select").value);
  if (photo) form.append("photo", photo);
  structuredTask({ prefix: "mi", task: "minutes", url: "/api/minutes", body: form, render: renderMinutes });
}

// ---------- documents ----------
function reportItem(text, failed = false) {
  const li = document.createElement("li");
  li.textContent = text;
  if (failed) li.className = "failed";
  return li;
}

async function translateDocuments() {
  const status = $("do-status");
  const files = [...$("do-files").files];
  const limits = state.settings.limits;
  if (!files.length) return showError(status, t("files_none"));
  if (files.length > limits.max_files) return showError(status, t("too_many_files", { max: limits.max_files }));
  const big = files.find((f) => f.size > limits.max_file_bytes);
  if (big) return showError(status, t("file_too_big", { name: big.name, max: Math.floor(limits.max_file_bytes / 1024) }));
  const form = new FormData();
  for (const file of files) form.append("files", file);
  form.append("source", $("do-source").value);
  form.append("target", $("do-target").value);
  form.append("model", $("model-select").value);
  form.append("as_zip", $("do-zip").checked ? "true" : "false");
  const progress = $("do-progress");
  const report = $("do-report");
  const link = $("do-download");
  progress.value = 0;
  progress.hidden = false;
  report.replaceChildren();
  link.hidden = true;
  const outcome = await runStream({
    prefix: "do", url: "/api/documents/translate", body: form,
    onEvent: (event) => {
      if (event.type === "documents") {
        progress.max = Math.max(event.total, 1);
        for (const f of event.files) if (f.error) report.append(reportItem(t("file_error", { name: f.name, error: f.error }), true));
      } else if (event.type === "progress") {
        progress.value = event.done;
        setStatus(status, t("progress", { done: event.done, total: event.total }));
      } else if (event.type === "file_done") {
        const failed = event.failed.length;
        report.append(reportItem(failed
          ? t("file_failed", { name: event.file, failed })
          : t("file_ok", { name: event.file, n: event.segments }), failed > 0));
        for (const f of event.failed) report.append(reportItem(`  ${t("segment_failed", { n: f.segment, message: f.message })} — « ${f.excerpt} »`, true));
      } else if (event.type === "download") {
        const bytes = Uint8Array.from(atob(event.data_base64), (c) => c.charCodeAt(0));
        downloadBlob(new Blob([bytes], { type: event.media_type }), event.filename, link);
        link.textContent = `${t("download_result")} : ${event.filename}`;
        link.hidden = false;
      }
    },
  });
  if (outcome?.done) addHistory("documents", files.map((f) => f.name).join(", "), link.download || "");
}

// ---------- wiring ----------
function init() {
  applyTheme(localStorage.getItem("tradia.theme"));
  setupTabs();
  $("theme-toggle").addEventListener("click", toggleTheme);
  $("ui-lang-toggle").addEventListener("click", () => {
    state.ui = state.ui === "fr" ? "en" : "fr";
    localStorage.setItem("tradia.ui", state.ui);
    applyStrings();
  });
  $("history-toggle").addEventListener("click", () => {
    const panel = $("history");
    panel.hidden = !panel.hidden;
    $("history-toggle").setAttribute("aria-expanded", String(!panel.hidden));
  });
  const closeHistory = () => {
    $("history").hidden = true;
    $("history-toggle").setAttribute("aria-expanded", "false");
    $("history-toggle").focus();
  };
  $("history-close").addEventListener("click", closeHistory);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("history").hidden) closeHistory(); });
  $("history-clear").addEventListener("click", () => {
    localStorage.removeItem(HISTORY_KEY);
    renderHistory();
  });
  for (const prefix of ["tr", "co", "re", "mi"]) $(`${prefix}-input`).addEventListener("input", () => updateCounter(prefix));
  $("model-select").addEventListener("change", () => {
    localStorage.setItem("tradia.model", $("model-select").value);
    updatePhotoRow();
  });
  $("tr-run").addEventListener("click", translate);
  $("tr-swap").addEventListener("click", swapLanguages);
  $("tr-copy").addEventListener("click", (e) => copyText($("tr-output").textContent, e.currentTarget));
  $("tr-input").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) translate(); });
  $("co-run").addEventListener("click", correct);
  $("co-copy").addEventListener("click", (e) => copyText($("co-output").textContent, e.currentTarget));
  $("re-run").addEventListener("click", reformulate);
  $("re-copy").addEventListener("click", (e) => copyText($("re-output").textContent, e.currentTarget));
  $("mi-run").addEventListener("click", minutes);
  $("mi-copy").addEventListener("click", (e) => copyText(state.minutesMarkdown, e.currentTarget));
  $("mi-download").addEventListener("click", () => downloadBlob(new Blob([state.minutesMarkdown], { type: "text/markdown" }), "compte-rendu.md"));
  $("do-run").addEventListener("click", translateDocuments);
  applyStrings();
  loadSettings().catch(() => {
    $("banner").textContent = t("lost");
    $("banner").hidden = false;
  });
  setInterval(checkReady, READY_POLL_MS);
}

init();
