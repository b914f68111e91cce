// The document jobs API (/api/documents/jobs): a job runs on the server whether or not a page
// follows it, so a page can leave, come back and pick it up where it is.
import { readNdjson } from "./ndjson.js";

const BASE = "/api/documents/jobs";

export const TERMINAL = new Set(["done", "failed", "cancelled"]);

export const resultUrl = (id) => `${BASE}/${encodeURIComponent(id)}/result`;

// { job } when the server took the files (202), else { status, error } with the app's error
// payload (null if it sent none).
export async function createJob(form) {
  const response = await fetch(BASE, { method: "POST", body: form, headers: { Accept: "application/json" } });
  const payload = await response.json().catch(() => null);
  if (!response.ok) return { status: response.status, error: payload };
  return { job: payload };
}

// The caller's jobs, newest first; null when the list could not be read.
export async function listJobs() {
  const response = await fetch(BASE, { cache: "no-store" }).catch(() => null);
  if (!response?.ok) return null;
  return (await response.json()).jobs;
}

// true once the job is gone (deleted now, or already expired: 404 says the same).
export async function deleteJob(id) {
  const response = await fetch(`${BASE}/${encodeURIComponent(id)}`, { method: "DELETE" }).catch(() => null);
  return Boolean(response && (response.ok || response.status === 404));
}

// The job's events: first its whole state ({type: "job"}), then what happens to it, then its
// final state. { events } or { status } when the server answered an error (404: gone).
export async function jobEvents(id, signal) {
  const response = await fetch(`${BASE}/${encodeURIComponent(id)}/events`, {
    signal, cache: "no-store", headers: { Accept: "application/x-ndjson" },
  });
  if (!response.ok) return { status: response.status };
  return { events: readNdjson(response.body) };
}
