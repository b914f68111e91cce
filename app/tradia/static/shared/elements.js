// The markup every task panel repeats, written once. Each element below is replaced, as soon as
// it is defined, by the plain HTML it stands for, so the page's final DOM (ids, roles, labels)
// is the same as if it had been written out in index.html.
//   <task-input prefix="co" placeholder="co_placeholder" [label="source_text"] [counter-live]>
//     the text area `co-input` and its character counter `co-count`
//   <task-actions prefix="co" run="correct">
//     the Run button `co-run` (labelled with the string `run`), Stop `co-stop`, status `co-status`
//   <task-result prefix="co" [warnings] [text="corrected_text" changes="explanations"]>
//     children</task-result>
//     the streamed text `co-live`, then `co-result` holding [`co-warnings`], the children and
//     [a text result: heading `text`, `co-output`, its Copy button `co-copy`, heading `changes`
//     and the list `co-changes`]
import { element } from "./dom.js";
import { t } from "./i18n.js";

// An element with a translated text: data-i18n keeps it translated when the language changes.
const labelled = (tag, key, attributes = {}) => element(tag, { ...attributes, "data-i18n": key }, t(key));

function taskInput(el) {
  const prefix = el.getAttribute("prefix");
  const placeholder = el.getAttribute("placeholder");
  const label = el.getAttribute("label") || "source_text";
  return [element("div", { class: "field" },
    element("textarea", {
      id: `${prefix}-input`, dir: "auto",
      "data-i18n-placeholder": placeholder, placeholder: t(placeholder),
      "data-i18n-aria": label, "aria-label": t(label),
    }),
    element("div", { class: "field-foot" },
      element("span", { id: `${prefix}-count`, class: "counter", "aria-live": el.hasAttribute("counter-live") && "polite" })),
  )];
}

function taskActions(el) {
  const prefix = el.getAttribute("prefix");
  return [element("div", { class: "actions" },
    labelled("button", el.getAttribute("run"), { type: "button", id: `${prefix}-run`, class: "primary" }),
    labelled("button", "stop", { type: "button", id: `${prefix}-stop`, class: "stop", hidden: true }),
    element("div", { id: `${prefix}-status`, class: "status", role: "status", "aria-live": "polite" }),
  )];
}

function taskResult(el) {
  const prefix = el.getAttribute("prefix");
  const warnings = el.hasAttribute("warnings")
    ? [element("div", { id: `${prefix}-warnings`, class: "warning", role: "alert", hidden: true })]
    : [];
  const text = el.getAttribute("text");
  const textResult = text
    ? [
      labelled("h2", text),
      element("div", { id: `${prefix}-output`, class: "output", dir: "auto" }),
      element("div", { class: "field-foot" },
        labelled("button", "copy", { type: "button", id: `${prefix}-copy`, class: "ghost" })),
      labelled("h2", el.getAttribute("changes")),
      element("ul", { id: `${prefix}-changes`, class: "explanations", dir: "auto" }),
    ]
    : [];
  return [
    element("div", { id: `${prefix}-live`, class: "live", dir: "auto", hidden: true }),
    element("div", { id: `${prefix}-result`, class: "result", hidden: true },
      ...warnings, ...el.childNodes, ...textResult),
  ];
}

for (const [name, build] of [["task-input", taskInput], ["task-actions", taskActions], ["task-result", taskResult]]) {
  customElements.define(name, class extends HTMLElement {
    connectedCallback() {
      this.replaceWith(...build(this));
    }
  });
}
