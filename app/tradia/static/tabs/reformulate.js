// The reformulation tab: the text reworded in the chosen tone, and what was changed.
import { $ } from "../shared/dom.js";
import { checkText, restoreInput, setupTextTask, updateCounter } from "../shared/runner.js";
import { option } from "../shared/settings.js";
import { state } from "../shared/state.js";
import { showTextResult, structuredTask } from "../shared/structured.js";

export const task = "reformulate";
const prefix = "re";

const showResult = (r) => showTextResult(prefix, {
  text: r.text,
  protectedChanges: r.protected_changes,
  changes: r.changes.map((c) => [c.before, c.after, c.reason]),
});

function reformulate() {
  const text = checkText(prefix);
  if (text === null) return;
  structuredTask({
    prefix, task, url: "/api/reformulate",
    body: { text, tone: $("re-tone").value, model: $("model-select").value, ui_language: state.ui },
    render: showResult,
  });
}

export const setup = () => setupTextTask(prefix, reformulate, () => $("re-output").textContent);

export function render() {
  const tone = $("re-tone");
  const previous = tone.value;
  tone.replaceChildren(...state.settings.tones.map((x) => option(x.id, x.labels[state.ui] || x.id, x.id === previous)));
  updateCounter(prefix);
}

export const restore = (item) => restoreInput(prefix, item.input);
