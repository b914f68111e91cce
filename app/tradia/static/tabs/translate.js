// The translation tab: the answer streams into #tr-output token by token.
import { $, element } from "../shared/dom.js";
import { addHistory } from "../shared/history.js";
import { languageLabel, t } from "../shared/i18n.js";
import { checkText, restoreInput, runStream, setupTextTask, updateCounter } from "../shared/runner.js";
import { defaultTarget, fillLanguageSelect, option } from "../shared/settings.js";
import { state } from "../shared/state.js";

export const task = "translate";
const prefix = "tr";
// The language the app detected in the last text, for the swap button when the source is "auto".
let detected = null;
const FORMALITIES = ["default", "formal", "informal"];

// Formal or informal address: offered only for the targets /api/settings lists.
function renderFormality() {
  const languages = state.settings?.formality_languages;
  $("tr-formality-row").hidden = !(Array.isArray(languages) && languages.includes($("tr-target").value));
}

function formality() {
  return $("tr-formality-row").hidden ? "default" : $("tr-formality").value;
}

// "Glossary: 1/3 terms applied", then each required term the translation lacks.
function glossaryReport(report) {
  const ok = report.filter((g) => g.applied).length;
  const missing = report.filter((g) => !g.applied)
    .map((g) => (g.kind === "do_not_translate" ? `“${g.term}”` : `“${g.translation}” (${g.term})`));
  const summary = t("glossary_applied", { ok, all: report.length });
  return missing.length ? `${summary} · ${t("jobs_terms_missing", { terms: missing.join(", ") })}` : summary;
}

async function translate() {
  const text = checkText(prefix);
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
  detected = null;
  const outcome = await runStream({
    prefix,
    url: "/api/translate",
    body: {
      text, source: $("tr-source").value, target: $("tr-target").value, model: $("model-select").value,
      formality: formality(),
    },
    onToken: (piece) => output.append(piece),
    onEvent: (event) => {
      if (event.type === "detected" && event.language) {
        detected = event.language;
        $("tr-detected").textContent = t("detected", { lang: languageLabel(event.language) });
      } else if (event.type === "result") {
        output.textContent = event.text;
        if (event.glossary?.length) $("tr-glossary").textContent = glossaryReport(event.glossary);
      }
    },
  });
  if (outcome?.done) addHistory(task, text, output.textContent);
  // A failed stream's partial text is not a translation: remove it. A stopped one stays, marked.
  else if (outcome?.error?.error === "AbortError") output.classList.add("partial");
  else output.textContent = "";
}

function swapLanguages() {
  const source = $("tr-source");
  const target = $("tr-target");
  const from = source.value === "auto" ? detected : source.value;
  if (!from) return;
  const to = target.value;
  source.value = to;
  target.value = from;
  renderFormality();
  const translated = $("tr-output").textContent;
  if (translated) {
    $("tr-input").value = translated;
    $("tr-output").textContent = "";
    updateCounter(prefix);
  }
}

export function setup() {
  setupTextTask(prefix, translate, () => $("tr-output").textContent);
  // The jobs tab's strings: one wording for the choice wherever it is offered.
  $("tr-target").closest("label").after(element("label", { class: "inline", id: "tr-formality-row", hidden: true },
    element("span", { "data-i18n": "jobs_formality" }, t("jobs_formality")), " ",
    element("select", { id: "tr-formality" })));
  $("tr-target").addEventListener("change", renderFormality);
  $("tr-swap").addEventListener("click", swapLanguages);
  $("tr-input").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) translate(); });
}

export function render() {
  fillLanguageSelect($("tr-source"), true, "auto");
  fillLanguageSelect($("tr-target"), false, defaultTarget());
  const choice = $("tr-formality");
  const current = choice.value || "default";
  choice.replaceChildren(...FORMALITIES.map((f) => option(f, t(`jobs_formality_${f}`), f === current)));
  renderFormality();
  updateCounter(prefix);
}

export function restore(item) {
  restoreInput(prefix, item.input);
  $("tr-output").textContent = item.output;
}
