// Interface strings and the functions that pick them. Everything that depends on the deployment
// (languages, tones, limits, models) comes from /api/settings, not from here.
import { state } from "./state.js";

export const STRINGS = {
  fr: {
    skip: "Aller au contenu", model: "Modèle", theme: "Thème clair ou sombre", history: "Historique",
    tasks: "Tâches", tab_translate: "Traduction", tab_correct: "Correction",
    tab_reformulate: "Reformulation", tab_minutes: "Compte rendu", tab_documents: "Documents",
    from: "De", to: "Vers", swap: "Inverser les langues", auto: "Détecter la langue",
    detected: "Langue détectée : {lang}", source_text: "Texte source", translation: "Traduction",
    tr_placeholder: "Saisissez ou collez le texte à traduire", copy: "Copier", copied: "Copié",
    translate: "Traduire", stop: "Arrêter", correct: "Corriger",
    co_placeholder: "Collez le texte à corriger", changes_view: "Modifications",
    corrected_text: "Texte corrigé", explanations: "Explications", tone: "Ton",
    re_placeholder: "Collez le texte à reformuler", reformulate: "Reformuler",
    reformulated_text: "Texte reformulé", changes_list: "Changements",
    minutes_language: "Langue du compte rendu", mi_placeholder: "Notes de réunion",
    notes: "Notes", photo: "Photo des notes (facultatif)", summarise: "Rédiger le compte rendu",
    copy_md: "Copier en Markdown", download: "Télécharger",
    photo_hint: "Pour joindre une photo, choisissez un modèle avec vision : {models}.",
    as_zip: "Toujours en ZIP", files: "Fichiers", translate_files: "Traduire les fichiers",
    pdf_note: "PDF : seul le texte est traduit ; il revient en document Word (.docx), sans la mise en page d'origine.",
    pdf_note_file: "{name} : la mise en page du PDF n'est pas conservée, le texte revient en .docx.",
    download_result: "Télécharger le résultat", history_note: "Gardé uniquement dans ce navigateur.",
    history_clear: "Effacer l'historique", history_empty: "Aucun élément.",
    queued: "En file d'attente : position {n}", started: "Génération en cours…",
    done: "Terminé", stopped: "Arrêté.", truncated: "Tronqué : le texte a atteint la limite du modèle.",
    stats: "{tokens} jetons · {seconds} s", count: "{n} / {max} caractères",
    too_long: "Texte trop long ({n} caractères, limite {max}).",
    empty_input: "Le texte est vide.", lost: "La connexion a été interrompue avant la fin : résultat incomplet.",
    no_result: "Aucun résultat.", glossary_applied: "Glossaire : {ok}/{all} termes appliqués",
    protected: "Attention : des éléments à ne pas modifier ont changé : {items}",
    no_changes: "Aucune correction.", files_none: "Choisissez au moins un fichier.",
    too_many_files: "Trop de fichiers (maximum {max}).", file_too_big: "{name} dépasse {max} Kio.",
    progress: "{done} / {total} segments", file_ok: "{name} : {n} segments traduits",
    file_failed: "{name} : {failed} segment(s) laissé(s) dans la langue d'origine",
    file_error: "{name} : non traduit ({error})", segment_failed: "segment {n} : {message}",
    summary: "Résumé", decisions: "Décisions", actions: "Actions", owner: "Responsable",
    due: "Échéance", none: "Aucune",
    no_models: "aucun modèle", task_translate: "Traduction", task_correct: "Correction",
    task_reformulate: "Reformulation", task_minutes: "Compte rendu", task_documents: "Documents",
    model_default: "(par défaut)", close: "Fermer",
    kind_number: "nombre", kind_currency: "devise", kind_name: "nom",
    err_llm_unreachable: "Le serveur d'IA est injoignable. Réessayez dans un instant ; si cela persiste, prévenez l'administrateur.",
    err_llm_auth_failed: "Le serveur d'IA refuse la clé d'API : l'administrateur doit vérifier la configuration.",
    err_model_missing: "Ce modèle n'est pas installé sur le serveur d'IA : choisissez-en un autre.",
    err_llm_busy: "Le serveur d'IA est saturé. Réessayez dans une minute.",
    err_llm_timeout: "Le serveur d'IA n'a pas répondu à temps. Essayez un texte plus court ou réessayez plus tard.",
    err_generation_failed: "La génération a échoué avant la fin ; le résultat partiel a été écarté. Réessayez.",
  },
  en: {
    skip: "Skip to content", model: "Model", theme: "Light or dark theme", history: "History",
    tasks: "Tasks", tab_translate: "Translation", tab_correct: "Correction",
    tab_reformulate: "Rewording", tab_minutes: "Minutes", tab_documents: "Documents",
    from: "From", to: "To", swap: "Swap languages", auto: "Detect language",
    detected: "Detected language: {lang}", source_text: "Source text", translation: "Translation",
    tr_placeholder: "Type or paste the text to translate", copy: "Copy", copied: "Copied",
    translate: "Translate", stop: "Stop", correct: "Correct",
    co_placeholder: "Paste the text to correct", changes_view: "Changes",
    corrected_text: "Corrected text", explanations: "Explanations", tone: "Tone",
    re_placeholder: "Paste the text to reword", reformulate: "Reword",
    reformulated_text: "Reworded text", changes_list: "Changes",
    minutes_language: "Minutes language", mi_placeholder: "Meeting notes",
    notes: "Notes", photo: "Photo of the notes (optional)", summarise: "Write the minutes",
    copy_md: "Copy as Markdown", download: "Download",
    photo_hint: "To add a photo, choose a model with vision: {models}.",
    as_zip: "Always as ZIP", files: "Files", translate_files: "Translate the files",
    pdf_note: "PDF: only the text is translated; it comes back as a Word document (.docx), without the original layout.",
    pdf_note_file: "{name}: the PDF's layout is not kept; its text comes back as .docx.",
    download_result: "Download the result", history_note: "Kept in this browser only.",
    history_clear: "Clear history", history_empty: "Nothing yet.",
    queued: "Queued: position {n}", started: "Generating…",
    done: "Done", stopped: "Stopped.", truncated: "Truncated: the text reached the model's limit.",
    stats: "{tokens} tokens · {seconds} s", count: "{n} / {max} characters",
    too_long: "Text too long ({n} characters, limit {max}).",
    empty_input: "The text is empty.", lost: "The connection was cut before the end: incomplete result.",
    no_result: "No result.", glossary_applied: "Glossary: {ok}/{all} terms applied",
    protected: "Warning: items that must not change were changed: {items}",
    no_changes: "No corrections.", files_none: "Choose at least one file.",
    too_many_files: "Too many files (at most {max}).", file_too_big: "{name} is over {max} KiB.",
    progress: "{done} / {total} segments", file_ok: "{name}: {n} segments translated",
    file_failed: "{name}: {failed} segment(s) left in the original language",
    file_error: "{name}: not translated ({error})", segment_failed: "segment {n}: {message}",
    summary: "Summary", decisions: "Decisions", actions: "Actions", owner: "Owner",
    due: "Due", none: "None",
    no_models: "no model", task_translate: "Translation", task_correct: "Correction",
    task_reformulate: "Rewording", task_minutes: "Minutes", task_documents: "Documents",
    model_default: "(default)", close: "Close",
    kind_number: "number", kind_currency: "currency", kind_name: "name",
    err_llm_unreachable: "The AI server cannot be reached. Try again in a moment; if it persists, tell the administrator.",
    err_llm_auth_failed: "The AI server refused the API key: the administrator must check the configuration.",
    err_model_missing: "This model is not installed on the AI server: choose another one.",
    err_llm_busy: "The AI server is saturated. Try again in a minute.",
    err_llm_timeout: "The AI server did not answer in time. Try a shorter text or try again later.",
    err_generation_failed: "The generation failed before the end; the partial result was discarded. Try again.",
  },
};

export function t(key, vars = {}) {
  let text = (STRINGS[state.ui] || STRINGS.fr)[key] ?? STRINGS.fr[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

export function languageLabel(code) {
  const entry = state.settings?.languages.find((l) => l.code === code);
  return entry ? entry.labels[state.ui] || code : code;
}

// Upstream failures are explained in the interface language; other refusals (limits, formats)
// carry the server's own message.
export function errorMessage(payload, status) {
  const localized = payload?.error && STRINGS[state.ui][`err_${payload.error}`];
  if (localized) return localized;
  if (payload?.message) return payload.message;
  if (Array.isArray(payload?.detail)) return payload.detail.map((d) => d.msg).join("; ");
  return payload?.detail ? String(payload.detail) : `HTTP ${status}`;
}
