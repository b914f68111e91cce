// The translation tab: the answer streams into #tr-output token by token.
import { $ } from "../shared/dom.js";
import { addHistory } from "../shared/history.js";
import { languageLabel, t } from "../shared/i18n.js";
import { checkText, restoreInput, runStream, setupTextTask, updateCounter } from "../shared/runner.js";
import { defaultTarget, fillLanguageSelect } from "../shared/settings.js";
import { state } from "../shared/state.js";

export const task = "translate";
const prefix = "tr";
// The language the app detected in the last text, for the swap button when the source is "auto".
let detected = null;

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
    body: { text, source: $("tr-source").value, target: $("tr-target").value, model: $("model-select").value },
    onToken: (piece) => output.append(piece),
    onEvent: (event) => {
      if (event.type === "detected" && event.language) {
        detected = event.language;
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
  const translated = $("tr-output").textContent;
  if (translated) {
    $("tr-input").value = translated;
    $("tr-output").textContent = "";
    updateCounter(prefix);
  }
}

export function setup() {
  setupTextTask(prefix, translate, () => $("tr-output").textContent);
  $("tr-swap").addEventListener("click", swapLanguages);
  $("tr-input").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) translate(); });
}

export function render() {
  fillLanguageSelect($("tr-source"), true, "auto");
  fillLanguageSelect($("tr-target"), false, defaultTarget());
  updateCounter(prefix);
}

export function restore(item) {
  restoreInput(prefix, item.input);
  $("tr-output").textContent = item.output;
}
