// Runs as a gr.HTML js_on_load body (variables: element, trigger, props) in the Papers tab.
// Gradio's dropdowns filter their choices on a key press, reading the box's text then. Text
// that arrives without one (an input method committing 谷歌, a paste, a drop) left the choices
// unfiltered until the next key: on such input, the organisation and category boxes get the
// key press they missed, once the box holds the new text.
if (!document.body.dataset.kgAliasFilter) {
  document.body.dataset.kgAliasFilter = "1";
  const boxes = ["#kg-filter-org", "#kg-filter-category", "#kg-edit-org", "#kg-edit-category"]
    .map((id) => `${id} input`)
    .join(", ");
  document.addEventListener(
    "input",
    (e) => {
      const box = e.target;
      if (!(box instanceof HTMLInputElement) || !box.matches(boxes) || e.isComposing) return;
      setTimeout(() => {
        box.dispatchEvent(new KeyboardEvent("keydown", { key: "Unidentified", bubbles: true }));
      }, 0);
    },
    true,
  );
}
