// What every task tab shares: the character counter, the input checks, the status line and the
// streamed run with its Run/Stop buttons (ids `<prefix>-input`, `-count`, `-run`, `-stop`,
// `-status`, as the task-input and task-actions elements make them).
import { startTask } from "./api.js";
import { $, copyText } from "./dom.js";
import { errorMessage, t } from "./i18n.js";
import { state } from "./state.js";

export function setStatus(el, text) {
  el.replaceChildren(document.createTextNode(text));
}

export function showError(el, message) {
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

export function updateCounter(prefix) {
  const input = $(`${prefix}-input`);
  const counter = $(`${prefix}-count`);
  if (!input || !counter || !state.settings) return;
  const max = state.settings.limits.max_chars;
  counter.textContent = t("count", { n: input.value.length, max });
  counter.classList.toggle("over", input.value.length > max);
}

// The wiring every text task shares: the counter follows the input, Run starts run(), Copy
// copies what copied() returns.
export function setupTextTask(prefix, run, copied) {
  $(`${prefix}-input`).addEventListener("input", () => updateCounter(prefix));
  $(`${prefix}-run`).addEventListener("click", run);
  $(`${prefix}-copy`).addEventListener("click", (e) => copyText(copied(), e.currentTarget));
}

// A text put back from the history.
export function restoreInput(prefix, text) {
  $(`${prefix}-input`).value = text;
  updateCounter(prefix);
}

// The text to send, or null (and the reason in the status line) when it cannot be sent.
export function checkText(prefix, { allowEmpty = false } = {}) {
  const status = $(`${prefix}-status`);
  const text = $(`${prefix}-input`).value;
  const max = state.settings.limits.max_chars;
  if (!allowEmpty && !text.trim()) return showError(status, t("empty_input")), null;
  if (text.length > max) return showError(status, t("too_long", { n: text.length, max })), null;
  return text;
}

// Runs one streamed task: queue position and progress in the status line, tokens to onToken,
// the task's own events to onEvent. Resolves to { done: event } or { error: payload }.
export async function runStream({ prefix, url, body, onToken, onEvent }) {
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
    const started = await startTask(url, body, controller.signal);
    if (!started.events) {
      showError(status, errorMessage(started.error, started.status));
      return { error: started.error };
    }
    for await (const event of started.events) {
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
