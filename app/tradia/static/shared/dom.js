// Small DOM helpers shared by every tab.
import { t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

// element("li", { class: "failed" }, "text", child): attributes as in HTML (true: present,
// false or null: absent), children as nodes or strings.
export function element(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) el.setAttribute(name, "");
    else if (value !== false && value != null) el.setAttribute(name, value);
  }
  el.append(...children);
  return el;
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API needs a secure context: fall back to a selection copy.
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = t("copied");
  setTimeout(() => { button.textContent = label; }, 1200);
}

// Into `link` (shown to the user) when given, else downloaded at once.
export function downloadBlob(blob, filename, link) {
  const anchor = link || document.createElement("a");
  if (anchor.href.startsWith("blob:")) URL.revokeObjectURL(anchor.href);
  anchor.href = URL.createObjectURL(blob);
  anchor.download = filename;
  if (!link) anchor.click();
}
