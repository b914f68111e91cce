// What several modules read: the interface language and the deployment's settings
// (/api/settings, null until they arrive).
export const state = {
  ui: localStorage.getItem("tradia.ui") || "fr",
  settings: null,
  upstreamDown: false,
};
