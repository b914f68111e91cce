// The documents tab: files translated segment by segment, with a per-file report and the
// result (one file, or a ZIP) to download.
import { $, downloadBlob, element } from "../shared/dom.js";
import { addHistory } from "../shared/history.js";
import { t } from "../shared/i18n.js";
import { runStream, setStatus, showError } from "../shared/runner.js";
import { defaultTarget, fillLanguageSelect } from "../shared/settings.js";
import { state } from "../shared/state.js";

export const task = "documents";

const reportItem = (text, failed = false) => element("li", { class: failed && "failed" }, text);

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
        if (event.note) report.append(reportItem(t("pdf_note_file", { name: event.file })));
        for (const f of event.failed) report.append(reportItem(`  ${t("segment_failed", { n: f.segment, message: f.message })} — « ${f.excerpt} »`, true));
      } else if (event.type === "download") {
        const bytes = Uint8Array.from(atob(event.data_base64), (c) => c.charCodeAt(0));
        downloadBlob(new Blob([bytes], { type: event.media_type }), event.filename, link);
        link.textContent = `${t("download_result")} : ${event.filename}`;
        link.hidden = false;
      }
    },
  });
  if (outcome?.done) addHistory(task, files.map((f) => f.name).join(", "), link.download || "");
}

export function setup() {
  $("do-run").addEventListener("click", translateDocuments);
}

export function render() {
  const extensions = state.settings.features.document_extensions;
  fillLanguageSelect($("do-source"), true, "auto");
  fillLanguageSelect($("do-target"), false, defaultTarget());
  $("do-formats").textContent = `(${extensions.join(", ")})`;
  $("do-files").accept = extensions.join(",");
  $("do-pdf-note").hidden = !extensions.includes(".pdf");
}
