// The app's HTTP API, as the page calls it.
import { readNdjson } from "./ndjson.js";

export async function fetchSettings() {
  const response = await fetch("/api/settings");
  return response.json();
}

// { ok, status, payload } from /readyz, or null when Tradia itself cannot be reached.
export async function fetchReadiness() {
  let response;
  try {
    response = await fetch("/readyz", { cache: "no-store" });
  } catch {
    return null;
  }
  const payload = response.ok ? null : await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, payload };
}

// Starts a streamed task: { events } (an async iterator of the NDJSON events) when the app
// accepted it, else { status, error } with the app's error payload (null if it sent none).
// `body` is sent as a form when it is a FormData, as JSON otherwise.
export async function startTask(url, body, signal) {
  const init = { method: "POST", signal, headers: { Accept: "application/x-ndjson" } };
  if (body instanceof FormData) init.body = body;
  else {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  if (!response.ok) return { status: response.status, error: await response.json().catch(() => null) };
  return { events: readNdjson(response.body) };
}
