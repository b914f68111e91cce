// Sign-in state: the user's name and a "Sign out" button in the top bar when the app signs
// people in itself (GET /api/session answers {user, groups, auth}), and back to the sign-in
// page, with the current page as `next`, as soon as any call finds the session gone
// (401 {"error": "signed_out"}). Imported once by app.js, before the first call.
const STRINGS = {
  fr: { user: "Connecté : {user}", sign_out: "Se déconnecter" },
  en: { user: "Signed in: {user}", sign_out: "Sign out" },
};

function signInAgain() {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/auth/login?expired=1&next=${next}`);
}

// Every module calls fetch() directly: wrapping it here catches an expired session wherever
// it is noticed, without each tab handling it.
const nativeFetch = window.fetch.bind(window);
window.fetch = async (...args) => {
  const response = await nativeFetch(...args);
  if (response.status === 401) {
    const body = await response.clone().json().catch(() => null);
    if (body?.error === "signed_out") signInAgain();
  }
  return response;
};

let session = null;

function render() {
  const form = document.getElementById("session");
  if (!form || !session) return;
  const words = STRINGS[document.documentElement.lang] || STRINGS.fr;
  form.querySelector("#session-user").textContent = words.user.replace("{user}", session.user);
  form.querySelector("button").textContent = words.sign_out;
  form.hidden = false;
}

async function load() {
  const response = await nativeFetch("/api/session", { cache: "no-store" }).catch(() => null);
  if (!response?.ok) return;
  const body = await response.json();
  // Behind the proxy's basic auth (auth "none") there is nothing to sign out of here.
  if (body.auth === "none") return;
  session = body;
  render();
}

// The interface language is switched by app.js on <html lang>: follow it.
new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
load();
