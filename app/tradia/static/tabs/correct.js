// The correction tab: the corrected text, a word diff and the explanations.
import { $, element } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { checkText, restoreInput, setupTextTask, updateCounter } from "../shared/runner.js";
import { state } from "../shared/state.js";
import { showTextResult, structuredTask } from "../shared/structured.js";

export const task = "correct";
const prefix = "co";

function renderDiff(container, ops) {
  container.replaceChildren(...ops.map((op) => (op.op === "equal"
    ? document.createTextNode(op.text)
    : element(op.op === "insert" ? "ins" : "del", {}, op.text))));
}

function showResult(r) {
  renderDiff($("co-diff"), r.diff);
  return showTextResult(prefix, {
    text: r.corrected_text,
    protectedChanges: r.protected_changes,
    changes: r.explanations.map((e) => [e.original, e.correction, e.explanation]),
    empty: t("no_changes"),
  });
}

function correct() {
  const text = checkText(prefix);
  if (text === null) return;
  structuredTask({
    prefix, task, url: "/api/correct",
    body: { text, model: $("model-select").value, ui_language: state.ui },
    render: showResult,
  });
}

export const setup = () => setupTextTask(prefix, correct, () => $("co-output").textContent);
export const render = () => updateCounter(prefix);
export const restore = (item) => restoreInput(prefix, item.input);
