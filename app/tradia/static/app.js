// The page's entry point: the top bar (model, interface language, theme, history) and the task
// tabs, each in its own module under tabs/ (setup() once, render() whenever the settings arrive
// or the interface language changes, restore(item) for a history item where the tab has one).
import "./shared/elements.js"; // first: the task panels' shared markup, expanded before any setup
import "./shared/session.js"; // sign-in state in the top bar; a lost session goes to sign-in
import { $ } from "./shared/dom.js";
import { renderHistory, setupHistory } from "./shared/history.js";
import { t } from "./shared/i18n.js";
import { fillModels, onSettings, setupSettings } from "./shared/settings.js";
import { state } from "./shared/state.js";
import { setupTabs } from "./shared/tabs.js";
import * as correct from "./tabs/correct.js";
import * as documents from "./tabs/documents.js";
import * as minutes from "./tabs/minutes.js";
import * as reformulate from "./tabs/reformulate.js";
import * as translate from "./tabs/translate.js";

const TABS = [translate, correct, reformulate, minutes, documents];

function render() {
  if (state.settings) {
    fillModels();
    for (const tab of TABS) tab.render();
  }
  renderHistory();
}

function applyStrings() {
  document.documentElement.lang = state.ui;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  $("ui-lang-toggle").textContent = state.ui === "fr" ? "EN" : "FR";
  $("ui-lang-toggle").setAttribute("aria-label", state.ui === "fr" ? "English" : "Français");
  render();
}

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const current = document.documentElement.dataset.theme
    || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  localStorage.setItem("tradia.theme", next);
  applyTheme(next);
}

function restoreHistory(item) {
  const tab = TABS.find((x) => x.task === item.task);
  if (!tab?.restore) return;
  $(`tab-${item.task}`).click();
  tab.restore(item);
}

function init() {
  applyTheme(localStorage.getItem("tradia.theme"));
  setupTabs();
  $("theme-toggle").addEventListener("click", toggleTheme);
  $("ui-lang-toggle").addEventListener("click", () => {
    state.ui = state.ui === "fr" ? "en" : "fr";
    localStorage.setItem("tradia.ui", state.ui);
    applyStrings();
  });
  setupHistory(restoreHistory);
  for (const tab of TABS) tab.setup();
  applyStrings();
  onSettings(render);
  setupSettings();
}

init();
