// Tasks whose answer is a structured result (correction, reformulation, minutes): the tokens
// stream into `<prefix>-live`, then the result is rendered into `<prefix>-result` (as the
// task-result element makes them).
import { $, element } from "./dom.js";
import { addHistory } from "./history.js";
import { t } from "./i18n.js";
import { runStream } from "./runner.js";

// render(result) fills the result's own elements and returns the text kept in the history.
export async function structuredTask({ prefix, task, url, body, render }) {
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

// Protected items (numbers, prices, names) the model changed anyway.
function renderWarnings(el, changes) {
  el.hidden = !changes.length;
  el.textContent = changes.length
    ? t("protected", { items: changes.map((c) => `${c.value} (${t(`kind_${c.kind}`)})`).join(", ") })
    : "";
}

function changeItem([before, after, reason]) {
  return element("li", { dir: "auto" }, element("del", {}, before), " → ", element("ins", {}, after),
    reason ? ` : ${reason}` : "");
}

// Fills the text result a task-result element made (`<prefix>-output`, `-warnings`,
// `-changes`) and returns the text. changes: [before, after, reason] triples; `empty` is listed
// when there are none.
export function showTextResult(prefix, { text, protectedChanges, changes, empty }) {
  $(`${prefix}-output`).textContent = text;
  renderWarnings($(`${prefix}-warnings`), protectedChanges);
  const items = changes.map(changeItem);
  if (!items.length && empty) items.push(element("li", {}, empty));
  $(`${prefix}-changes`).replaceChildren(...items);
  return text;
}
