// The minutes tab: meeting notes (and, with a vision model, a photo of them) become minutes
// with a summary, decisions and actions, shown and downloadable as Markdown.
import { $, downloadBlob, element } from "../shared/dom.js";
import { languageLabel, t } from "../shared/i18n.js";
import { checkText, restoreInput, setupTextTask, updateCounter } from "../shared/runner.js";
import { currentModel, option } from "../shared/settings.js";
import { state } from "../shared/state.js";
import { structuredTask } from "../shared/structured.js";

export const task = "minutes";
const prefix = "mi";
let markdown = "";

const heading = (key) => element("h3", {}, t(key));

function showResult(r) {
  const nodes = [];
  if (r.title) nodes.push(element("h2", {}, r.title));
  nodes.push(heading("summary"), element("p", {}, r.summary), heading("decisions"));
  nodes.push(element("ul", {}, ...(r.decisions.length ? r.decisions : [t("none")]).map((d) => element("li", {}, d))));
  nodes.push(heading("actions"));
  if (r.actions.length) {
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const key of ["actions", "owner", "due"]) head.append(element("th", {}, t(key)));
    const tbody = table.createTBody();
    for (const a of r.actions) {
      const row = tbody.insertRow();
      for (const key of ["action", "owner", "due_date"]) row.insertCell().textContent = a[key];
    }
    nodes.push(table);
  } else nodes.push(element("p", {}, t("none")));
  $("mi-output").replaceChildren(...nodes);
  markdown = r.markdown;
  return r.markdown;
}

function minutes() {
  const photo = $("mi-photo").files[0];
  const text = checkText(prefix, { allowEmpty: Boolean(photo) });
  if (text === null) return;
  const form = new FormData();
  form.append("notes", text);
  form.append("language", $("mi-language").value);
  form.append("model", $("model-select").value);
  if (photo) form.append("photo", photo);
  structuredTask({ prefix, task, url: "/api/minutes", body: form, render: showResult });
}

// The photo field only for a model with vision; otherwise a hint naming those that have it.
function updatePhotoRow() {
  const vision = currentModel()?.vision === true;
  $("mi-photo-row").hidden = !vision;
  const visionModels = (state.settings?.models || []).filter((m) => m.vision).map((m) => m.name);
  $("mi-photo-hint").hidden = vision || visionModels.length === 0;
  $("mi-photo-hint").textContent = t("photo_hint", { models: visionModels.join(", ") });
  if (!vision) $("mi-photo").value = "";
}

export function setup() {
  setupTextTask(prefix, minutes, () => markdown);
  $("model-select").addEventListener("change", updatePhotoRow);
  $("mi-download").addEventListener("click", () => downloadBlob(new Blob([markdown], { type: "text/markdown" }), "compte-rendu.md"));
}

export function render() {
  const language = $("mi-language");
  const previous = language.value || state.ui;
  language.replaceChildren(...state.settings.ui_languages.map((c) => option(c, languageLabel(c), c === previous)));
  updatePhotoRow();
  updateCounter(prefix);
}

export const restore = (item) => restoreInput(prefix, item.input);
