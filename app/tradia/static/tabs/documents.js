// The documents tab: files dropped or chosen, sent as a job that the server runs on its own;
// "Your documents" lists the jobs and follows those still running, so a reload, another tab or
// a computer waking up from sleep picks each one up where it is.
import { $, element } from "../shared/dom.js";
import { addHistory } from "../shared/history.js";
import { errorMessage, languageLabel, t } from "../shared/i18n.js";
import { createJob, deleteJob, jobEvents, listJobs, resultUrl, TERMINAL } from "../shared/jobs.js";
import { setStatus, showError } from "../shared/runner.js";
import { defaultTarget, fillLanguageSelect, option } from "../shared/settings.js";
import { state } from "../shared/state.js";

export const task = "documents";

const FORMALITIES = ["default", "formal", "informal"];
// Waits before following a broken stream again: short first (a restart, a network blip), then
// longer so a server that is down is not hammered.
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];

let chosen = [];
// id -> { job, card, controller, timer, attempt }
const followed = new Map();

// ---- The files to send ----------------------------------------------------------------------

function addFiles(files) {
  const known = new Set(chosen.map((f) => `${f.name}/${f.size}/${f.lastModified}`));
  for (const file of files) if (!known.has(`${file.name}/${file.size}/${file.lastModified}`)) chosen.push(file);
  renderChosen();
}

function renderChosen() {
  const list = $("do-chosen");
  list.hidden = !chosen.length;
  list.replaceChildren(...chosen.map((file, index) => {
    const remove = element("button", {
      type: "button", class: "ghost small", "aria-label": t("jobs_remove_file", { name: file.name }),
    }, t("jobs_remove"));
    remove.addEventListener("click", () => {
      chosen.splice(index, 1);
      renderChosen();
      $("do-files").focus();
    });
    return element("li", { dir: "auto" },
      element("span", {}, file.name), " ",
      element("span", { class: "muted" }, t("jobs_size", { n: Math.max(1, Math.round(file.size / 1024)) })), " ",
      remove);
  }));
}

function setupDropZone() {
  const zone = $("do-drop");
  const input = $("do-files");
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = ""; // the list above is the selection; the same file may be chosen again
  });
  const over = (on) => (event) => {
    if (![...(event.dataTransfer?.types || [])].includes("Files")) return;
    event.preventDefault();
    zone.classList.toggle("over", on);
  };
  zone.addEventListener("dragenter", over(true));
  zone.addEventListener("dragover", over(true));
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("over");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    addFiles([...(event.dataTransfer?.files || [])]);
  });
}

function renderFormality() {
  const languages = state.settings?.formality_languages;
  const shown = Array.isArray(languages) && languages.includes($("do-target").value);
  $("do-formality-row").hidden = !shown;
}

async function send() {
  const status = $("do-status");
  const run = $("do-run");
  const limits = state.settings.limits;
  if (!chosen.length) return showError(status, t("files_none"));
  if (chosen.length > limits.max_files) return showError(status, t("too_many_files", { max: limits.max_files }));
  const big = chosen.find((f) => f.size > limits.max_file_bytes);
  if (big) return showError(status, t("file_too_big", { name: big.name, max: Math.floor(limits.max_file_bytes / 1024) }));
  const form = new FormData();
  for (const file of chosen) form.append("files", file);
  form.append("source", $("do-source").value);
  form.append("target", $("do-target").value);
  form.append("model", $("model-select").value);
  form.append("as_zip", $("do-zip").checked ? "true" : "false");
  if (!$("do-formality-row").hidden) form.append("formality", $("do-formality").value);
  run.disabled = true;
  setStatus(status, t("jobs_sending"));
  try {
    const created = await createJob(form);
    if (created.error !== undefined) return showError(status, errorMessage(created.error, created.status));
    addHistory(task, chosen.map((f) => f.name).join(", "), "");
    chosen = [];
    renderChosen();
    setStatus(status, t("jobs_sent"));
    showJob(created.job);
    follow(created.job.id);
  } catch {
    showError(status, t("lost"));
  } finally {
    run.disabled = false;
  }
}

// ---- The job list ---------------------------------------------------------------------------

const when = (iso) => new Date(iso).toLocaleString(state.ui, { dateStyle: "medium", timeStyle: "short" });

function announce(text) {
  $("do-announce").textContent = text;
}

function fileCard(file) {
  const name = element("span", { class: "file-name" }, file.name);
  const progress = element("progress", { max: "1", value: "0" });
  const count = element("span", { class: "file-count muted" });
  const stateText = element("span", { class: "file-state" });
  const details = element("div", { class: "file-details" });
  const li = element("li", { dir: "auto" }, name, " ", stateText, progress, count, details);
  return { li, progress, count, stateText, details };
}

function buildCard(job) {
  const id = `job-${job.id}`;
  const title = element("h3", { id: `${id}-title`, dir: "auto" });
  const meta = element("p", { class: "job-meta muted" });
  const stateText = element("span", { class: "job-state" });
  const files = job.files.map(fileCard);
  const error = element("p", { class: "error-box", hidden: true });
  const link = element("a", { class: "download", hidden: true, download: "" });
  const remove = element("button", { type: "button", class: "ghost" });
  const card = element("li", { class: "job", id, "aria-labelledby": `${id}-title` },
    title, element("p", {}, stateText), meta,
    element("ul", { class: "job-files" }, ...files.map((f) => f.li)),
    error, element("div", { class: "job-actions" }, link, remove));
  remove.addEventListener("click", () => removeJob(job.id, remove));
  return { card, title, meta, stateText, files, error, link, remove };
}

function fileDetails(file) {
  const items = [];
  if (file.error) items.push(element("p", { class: "failed" }, t(`jobs_file_${file.state === "rejected" ? "rejected" : "failed"}`, { error: file.error })));
  if (file.note) items.push(element("p", { class: "muted" }, t("pdf_note_file", { name: file.name })));
  const failures = file.failed_segments || [];
  if (failures.length) {
    items.push(element("details", { class: "failed" },
      element("summary", {}, t("file_failed", { name: file.name, failed: failures.length })),
      element("ul", {}, ...failures.map((f) => element("li", { dir: "auto" },
        `${t("segment_failed", { n: f.segment, message: f.message })} — « ${f.excerpt} »`)))));
  }
  const missing = file.terms_missing || [];
  if (missing.length) {
    const terms = missing.map((m) => (typeof m === "string" ? m
      : t("jobs_term", { term: m.term ?? "", expected: m.expected ?? "", n: m.segment ?? "" })));
    items.push(element("p", { class: "warning" }, t("jobs_terms_missing", { terms: terms.join(" ; ") })));
  }
  return items;
}

function jobStateText(job) {
  if (job.state === "queued" || (job.state === "running" && job.queue_position != null && job.queue_position > 0)) {
    return job.queue_position != null ? t("jobs_waiting", { n: job.queue_position }) : t("jobs_state_queued");
  }
  if (job.state === "running") return t("jobs_running", { done: job.done, total: job.total });
  return t(`jobs_state_${job.state}`);
}

function updateCard(entry) {
  const { job } = entry;
  const view = entry.view;
  const target = languageLabel(job.target);
  view.title.textContent = `${job.files.map((f) => f.name).join(", ")} → ${target}`;
  view.stateText.textContent = jobStateText(job);
  view.stateText.className = `job-state state-${job.state}`;
  const meta = [t("jobs_created", { when: when(job.created_at) })];
  if (job.expires_at) meta.push(t("jobs_kept_until", { when: when(job.expires_at) }));
  view.meta.textContent = meta.join(" · ");
  job.files.forEach((file, index) => {
    const f = view.files[index];
    if (!f) return;
    const segments = Math.max(file.segments, 0);
    f.progress.hidden = file.state === "rejected" || segments === 0;
    f.count.hidden = f.progress.hidden;
    f.progress.max = Math.max(segments, 1);
    f.progress.value = Math.min(file.done, segments);
    f.progress.setAttribute("aria-label", t("jobs_file_progress", { name: file.name }));
    f.count.textContent = t("progress", { done: file.done, total: segments });
    f.stateText.textContent = t(`jobs_file_${file.state}_short`);
    f.stateText.className = `file-state state-${file.state}`;
    // Rebuilt only when it changes: an open <details> stays open while the job runs.
    const details = fileDetails(file);
    const key = details.map((d) => d.textContent).join("\n");
    if (f.details.dataset.key !== key) {
      f.details.dataset.key = key;
      f.details.replaceChildren(...details);
    }
  });
  view.error.hidden = !job.error;
  view.error.textContent = job.error ? errorMessage({ error: job.error.code, message: job.error.message }) : "";
  const ready = job.state === "done" && job.result;
  view.link.hidden = !ready;
  if (ready) {
    view.link.href = resultUrl(job.id);
    view.link.textContent = t("jobs_download", { name: job.result.filename });
  } else view.link.removeAttribute("href");
  view.remove.textContent = TERMINAL.has(job.state) ? t("jobs_delete") : t("jobs_cancel");
}

function showEmpty() {
  $("do-jobs-empty").hidden = followed.size > 0;
}

// Adds the job's card (newest first: after `previous`, else at the top) or updates it.
function showJob(job, previous = null) {
  let entry = followed.get(job.id);
  if (!entry) {
    entry = { job, attempt: 0 };
    entry.view = buildCard(job);
    followed.set(job.id, entry);
    if (previous) previous.after(entry.view.card);
    else $("do-jobs").prepend(entry.view.card);
  }
  entry.job = job;
  updateCard(entry);
  showEmpty();
  return entry;
}

function forget(id) {
  const entry = followed.get(id);
  if (!entry) return;
  entry.controller?.abort();
  clearTimeout(entry.timer);
  entry.view.card.remove();
  followed.delete(id);
  showEmpty();
}

async function removeJob(id, button) {
  button.disabled = true;
  const entry = followed.get(id);
  const running = entry && !TERMINAL.has(entry.job.state);
  if (await deleteJob(id)) {
    forget(id);
    announce(t(running ? "jobs_cancelled" : "jobs_deleted"));
    $("do-files").focus();
  } else {
    button.disabled = false;
    announce(t("lost"));
  }
}

// One live event applied to the job as the page knows it (the final snapshot corrects any
// difference). Files are translated one after another, in order: the events are about the
// first one not yet done (names may repeat).
function apply(entry, event) {
  const job = entry.job;
  const current = () => job.files.find((f) => f.state !== "rejected" && f.state !== "done");
  if (event.type === "documents") {
    job.total = event.total;
    event.files.forEach((f, index) => {
      const file = job.files[index];
      if (!file) return;
      file.segments = f.segments;
      if (f.error) Object.assign(file, { state: "rejected", error: f.error });
    });
  } else if (event.type === "queued") {
    job.queue_position = event.position;
  } else if (event.type === "progress") {
    const file = current();
    // The event counts the segments of all files.
    if (file) {
      file.done = Math.min(file.segments, file.done + Math.max(0, event.done - job.done));
      file.state = "running";
    }
    job.done = event.done;
    job.total = event.total;
    job.state = "running";
    job.queue_position = null;
  } else if (event.type === "file_done") {
    const file = current();
    if (file) {
      Object.assign(file, {
        state: "done", done: file.segments, failed_segments: event.failed,
        output: event.output, note: event.note ?? null,
      });
    }
    // One announcement per file, never one per segment.
    announce(event.failed.length
      ? t("file_failed", { name: event.file, failed: event.failed.length })
      : t("jobs_file_announce", { name: event.file }));
  } else return false;
  return true;
}

function scheduleRetry(entry) {
  clearTimeout(entry.timer);
  const delay = RETRY_MS[Math.min(entry.attempt, RETRY_MS.length - 1)];
  entry.attempt += 1;
  entry.timer = setTimeout(() => follow(entry.job.id), delay);
}

// Follows the job's events until it ends; a broken stream is followed again after a short
// wait (its first event is the whole state, so nothing is missed).
async function follow(id) {
  const entry = followed.get(id);
  if (!entry || TERMINAL.has(entry.job.state)) return;
  entry.controller?.abort();
  clearTimeout(entry.timer);
  const controller = new AbortController();
  entry.controller = controller;
  try {
    const started = await jobEvents(id, controller.signal);
    if (!started.events) {
      if (started.status === 404) forget(id);
      else scheduleRetry(entry);
      return;
    }
    for await (const event of started.events) {
      if (event.type === "job") {
        const wasRunning = !TERMINAL.has(entry.job.state);
        showJob(event.job);
        entry.attempt = 0;
        if (wasRunning && TERMINAL.has(event.job.state)) announce(`${event.job.files.map((f) => f.name).join(", ")} : ${t(`jobs_state_${event.job.state}`)}`);
      } else if (apply(entry, event)) updateCard(entry);
    }
    if (!TERMINAL.has(entry.job.state) && entry.controller === controller) scheduleRetry(entry);
  } catch {
    // Aborted by a newer follow() or a removal: that one carries on. Else the stream broke.
    if (!controller.signal.aborted) scheduleRetry(entry);
  } finally {
    if (entry.controller === controller) entry.controller = null;
  }
}

// The caller's jobs from the server: new ones shown, gone ones removed, running ones followed
// from their current state.
async function refreshJobs() {
  const jobs = await listJobs();
  if (!jobs) return;
  const ids = new Set(jobs.map((j) => j.id));
  for (const id of [...followed.keys()]) if (!ids.has(id)) forget(id);
  let previous = null;
  for (const job of jobs) {
    const entry = showJob(job, previous);
    previous = entry.view.card;
    if (!TERMINAL.has(job.state)) follow(job.id);
  }
}

export function setup() {
  setupDropZone();
  $("do-run").addEventListener("click", send);
  $("do-target").addEventListener("change", renderFormality);
  // Back from sleep or from another tab: the streams may have died quietly meanwhile.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refreshJobs(); });
  refreshJobs();
}

export function render() {
  const extensions = state.settings.features.document_extensions;
  fillLanguageSelect($("do-source"), true, "auto");
  fillLanguageSelect($("do-target"), false, defaultTarget());
  const formality = $("do-formality");
  const current = formality.value || "default";
  formality.replaceChildren(...FORMALITIES.map((f) => option(f, t(`jobs_formality_${f}`), f === current)));
  renderFormality();
  $("do-formats").textContent = `(${extensions.join(", ")})`;
  $("do-files").accept = extensions.join(",");
  $("do-pdf-note").hidden = !extensions.includes(".pdf");
  renderChosen();
  for (const entry of followed.values()) updateCard(entry);
}
