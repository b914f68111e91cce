// The deployment's settings (languages, tones, limits, models), the model picker, and the
// AI-server banner.
import { fetchReadiness, fetchSettings } from "./api.js";
import { $ } from "./dom.js";
import { errorMessage, t } from "./i18n.js";
import { state } from "./state.js";

const READY_POLL_MS = 5000;
const listeners = [];

export function option(value, label, selected = false) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = label;
  el.selected = selected;
  return el;
}

// Keeps the current choice (or `fallback`) when the list is rebuilt in another language.
export function fillLanguageSelect(select, withAuto, fallback) {
  const previous = select.value || fallback;
  select.replaceChildren();
  if (withAuto) select.append(option("auto", t("auto")));
  for (const lang of state.settings.languages) select.append(option(lang.code, lang.labels[state.ui] || lang.code));
  select.value = [...select.options].some((o) => o.value === previous) ? previous : select.options[0].value;
}

export function defaultTarget() {
  const codes = state.settings.languages.map((l) => l.code);
  return codes.find((c) => c !== "fr") || codes[0];
}

export function currentModel() {
  return state.settings?.models.find((m) => m.name === $("model-select").value);
}

export function fillModels() {
  const s = state.settings;
  const models = $("model-select");
  const chosen = models.value || localStorage.getItem("tradia.model");
  const entries = s.models.length ? s.models : [{ name: s.default_model, default: true, vision: false }];
  models.replaceChildren(...entries.map((m) => option(m.name, m.default ? `${m.name} ${t("model_default")}` : m.name)));
  if (entries.some((m) => m.name === chosen)) models.value = chosen;
}

// listener() runs each time the settings arrive (at start and when the AI server is back).
export function onSettings(listener) {
  listeners.push(listener);
}

function showBanner(message) {
  const banner = $("banner");
  banner.textContent = message;
  banner.hidden = message === null;
}

export async function loadSettings() {
  state.settings = await fetchSettings();
  state.upstreamDown = Boolean(state.settings.upstream_error);
  showBanner(state.upstreamDown ? errorMessage(state.settings.upstream_error) : null);
  for (const listener of listeners) listener();
}

// The banner tells users the AI server is down before they try a task, and goes away by itself
// when the server is back (the model list is then reloaded).
async function checkReady() {
  if (document.hidden) return;
  const ready = await fetchReadiness();
  if (!ready) return; // Tradia itself is unreachable: the next task says so.
  if (ready.status === 503) {
    showBanner(errorMessage({ error: ready.payload?.reason, message: ready.payload?.message }, 503));
    state.upstreamDown = true;
  } else if (ready.ok && state.upstreamDown) {
    state.upstreamDown = false;
    showBanner(null);
    await loadSettings().catch(() => {});
  }
}

export function setupSettings() {
  $("model-select").addEventListener("change", () => localStorage.setItem("tradia.model", $("model-select").value));
  loadSettings().catch(() => showBanner(t("lost")));
  setInterval(checkReady, READY_POLL_MS);
}
