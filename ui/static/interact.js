// Runs as a gr.HTML js_on_load body (variables: element, trigger, props).
// Offline by design: no library, no network. Clicks on [data-open] open a card through a
// `select` event; an SVG lineage graph (svg.kg-svg) gets wheel zoom, drag pan and buttons.
if (!element.dataset.kgBound) {
  element.dataset.kgBound = "1";
  const svg = () => element.querySelector("svg.kg-svg");
  const box = (s) => s.getAttribute("viewBox").split(/\s+/).map(Number);
  const setBox = (s, b) => s.setAttribute("viewBox", b.map((v) => v.toFixed(1)).join(" "));
  const toSvg = (s, x, y) => {
    const p = s.createSVGPoint();
    p.x = x;
    p.y = y;
    return p.matrixTransform(s.getScreenCTM().inverse());
  };
  const zoom = (s, factor, cx, cy) => {
    const b = box(s);
    const w = b[2] * factor;
    if (w < 120 || w > 60000) return;
    const px = cx ?? b[0] + b[2] / 2;
    const py = cy ?? b[1] + b[3] / 2;
    setBox(s, [px - (px - b[0]) * factor, py - (py - b[1]) * factor, w, b[3] * factor]);
  };
  const open = (value) => trigger("select", { index: 0, value: value, selected: true });
  // The chat's [n] markers (ui.app_format.chat_answer) sit outside every gr.HTML, and the
  // chat's sanitiser keeps no data attribute: one listener on the page clicks the answer
  // panel's chip n, which opens the card with the cited sentence marked.
  if (!window.kgCitationsBound) {
    window.kgCitationsBound = true;
    const onCitation = (e) => {
      const cite = e.target.closest && e.target.closest("#kg-chat .kg-cite");
      if (!cite || (e.type === "keydown" && e.key !== "Enter" && e.key !== " ")) return;
      e.preventDefault();
      const n = Number(cite.textContent.replace(/\D/g, ""));
      const chip = document.querySelectorAll("#kg-answer-meta .kg-chip")[n - 1];
      if (chip) chip.click();
    };
    document.addEventListener("click", onCitation);
    document.addEventListener("keydown", onCitation);
  }
  // An edge's evidence, as text (never HTML). A citation edge's is several lines (each citing
  // sentence with its page, then the reference entry) and stays marked while it is shown.
  const showEvidence = (edge) => {
    const out = element.querySelector(".kg-evidence-box");
    if (out) {
      out.textContent = edge.dataset.evidence;
      out.classList.add("is-set");
      out.classList.toggle("is-citation", edge.classList.contains("kind-cites"));
    }
    element.querySelectorAll(".kg-edge.is-shown").forEach((e) => e.classList.remove("is-shown"));
    edge.classList.add("is-shown");
  };
  let drag = null;
  let moved = false;
  element.addEventListener("wheel", (e) => {
    const s = svg();
    if (!s || !s.contains(e.target)) return;
    e.preventDefault();
    const p = toSvg(s, e.clientX, e.clientY);
    zoom(s, e.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });
  element.addEventListener("pointerdown", (e) => {
    const s = svg();
    if (!s || !s.contains(e.target) || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, b: box(s), r: s.getBoundingClientRect() };
    moved = false;
  });
  element.addEventListener("pointermove", (e) => {
    const s = svg();
    if (!drag || !s) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) moved = true;
    if (!moved) return;
    const scale = Math.max(drag.b[2] / drag.r.width, drag.b[3] / drag.r.height);
    setBox(s, [drag.b[0] - dx * scale, drag.b[1] - dy * scale, drag.b[2], drag.b[3]]);
    s.classList.add("is-panning");
  });
  const endDrag = () => {
    drag = null;
    const s = svg();
    if (s) s.classList.remove("is-panning");
  };
  element.addEventListener("pointerup", endDrag);
  element.addEventListener("pointerleave", endDrag);
  element.addEventListener("click", (e) => {
    const zoomButton = e.target.closest("[data-zoom]");
    const s = svg();
    if (zoomButton && s) {
      const how = zoomButton.dataset.zoom;
      if (how === "reset") s.setAttribute("viewBox", s.dataset.home);
      else zoom(s, how === "in" ? 1 / 1.3 : 1.3);
      return;
    }
    if (moved) {
      moved = false;
      return;
    }
    const node = e.target.closest("[data-node]");
    if (node) {
      // Shift/Ctrl/Cmd-click adds a node to the lineage chart's selection (for "Fit selection").
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        node.classList.toggle("is-selected");
        return;
      }
      element.querySelectorAll(".kg-node.is-selected").forEach((n) => n.classList.remove("is-selected"));
      node.classList.add("is-selected");
      open(node.dataset.node);
      return;
    }
    const edge = e.target.closest("[data-evidence]");
    if (edge) {
      showEvidence(edge);
      return;
    }
    const link = e.target.closest("[data-open]");
    if (link) open(link.dataset.open);
  });
  element.addEventListener("keydown", (e) => {
    const node = e.target.closest && e.target.closest("[data-node],[data-open]");
    if (node && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      open(node.dataset.node || node.dataset.open);
    }
  });
}
