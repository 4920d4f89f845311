// The lineage chart's own behaviour; runs after interact.js (zoom, pan, clicks) as the same
// gr.HTML js_on_load body (variables: element, trigger, props). Offline: no library, no network.
// - Default fit: the whole chart if it fits at scale >= MIN_SCALE (every text is >= 12.5 drawing
//   units, so it reads at >= 12 px), else that scale showing as many boxes as fit around the
//   root (or the highlighted path, or the branch just folded); the panel takes the chart's
//   height, up to most of the window.
// - The search box centres a node; "Fit selection" fits the selected nodes (shift-click adds
//   one), the highlighted path or the root; "Whole chart" shows everything at any scale.
// - A fold toggle (− / +N) asks the server to lay the chart out again without that branch.
if (!element.dataset.kgChart) {
  element.dataset.kgChart = "1";
  const MIN_SCALE = 0.97; // the smallest text, 12.5 units, then reads at 12.1 px
  const MAX_SCALE = 1.1; // a small chart is drawn a little larger, not blown up
  const FIT_PAD = 36;
  const chart = () => element.querySelector("svg.kg-svg");
  const numbers = (text) => text.split(/[\s,]+/).filter(Boolean).map(Number);
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const maxHeight = () => Math.max(360, Math.min(800, window.innerHeight * 0.74));
  let fittedWidth = 0; // the panel width of the last fit
  let focusAfterRedraw = null;

  const nodeBox = (g) => {
    const t = /translate\(([-\d.]+)[ ,]+([-\d.]+)\)/.exec(g.getAttribute("transform") || "");
    const r = g.querySelector("rect");
    if (!t || !r) return null;
    return [Number(t[1]), Number(t[2]), Number(r.getAttribute("width")), Number(r.getAttribute("height"))];
  };
  const union = (boxes) => {
    const xs = boxes.flatMap((b) => [b[0], b[0] + b[2]]);
    const ys = boxes.flatMap((b) => [b[1], b[1] + b[3]]);
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    return [x, y, Math.max(...xs) - x, Math.max(...ys) - y];
  };
  const grow = (b, pad) => [b[0] - pad, b[1] - pad, b[2] + 2 * pad, b[3] + 2 * pad];
  const boxesOf = (s, selector) =>
    [...s.querySelectorAll(selector)].map(nodeBox).filter(Boolean);

  // Where a window of `size` starts along one axis: it holds the focus span, stays within
  // [lo, hi] and, among such starts, holds the most node spans whole (the nearest to centring
  // the focus on a tie).
  const bestStart = (spans, focus, size, lo, hi) => {
    const middle = (focus[0] + focus[1]) / 2 - size / 2;
    if (size >= hi - lo) return lo + (hi - lo - size) / 2;
    const min = Math.max(lo, Math.min(hi - size, focus[1] + FIT_PAD - size));
    const max = Math.min(hi - size, Math.max(lo, focus[0] - FIT_PAD));
    if (max < min) return clamp(middle, lo, hi - size);
    const starts = [middle, ...spans.flatMap(([a, b]) => [a - FIT_PAD, b + FIT_PAD - size])];
    let best = clamp(middle, min, max);
    let most = -1;
    for (const start of starts.map((v) => clamp(v, min, max))) {
      const held = spans.filter(([a, b]) => a >= start && b <= start + size).length;
      if (held > most || (held === most && Math.abs(start - middle) < Math.abs(best - middle))) {
        best = start;
        most = held;
      }
    }
    return best;
  };

  // Show `target` (drawing units) as large as `minScale`..MAX_SCALE allows; when it does not fit,
  // show as many nodes as possible around the `focus` box. `resize` sets the panel height.
  const show = (s, target, focus, minScale, resize) => {
    const width = s.parentElement.clientWidth;
    if (!width) return false;
    const extent = numbers(s.dataset.extent);
    let height = s.clientHeight || maxHeight();
    let scale = Math.min(width / target[2], (resize ? maxHeight() : height) / target[3], MAX_SCALE);
    scale = Math.max(scale, minScale);
    if (resize) {
      height = clamp(target[3] * scale, 220, maxHeight());
      s.style.height = `${Math.round(height)}px`;
    }
    const w = width / scale;
    const h = height / scale;
    let x = target[0] + (target[2] - w) / 2;
    let y = target[1] + (target[3] - h) / 2;
    if (w < target[2] || h < target[3]) {
      const boxes = boxesOf(s, ".kg-node");
      x = bestStart(boxes.map((b) => [b[0], b[0] + b[2]]), [focus[0], focus[0] + focus[2]], w,
        extent[0], extent[0] + extent[2]);
      const across = boxes.filter((b) => b[0] >= x && b[0] + b[2] <= x + w);
      y = bestStart(across.map((b) => [b[1], b[1] + b[3]]), [focus[1], focus[1] + focus[3]], h,
        extent[1], extent[1] + extent[3]);
    }
    s.setAttribute("viewBox", [x, y, w, h].map((v) => v.toFixed(1)).join(" "));
    return true;
  };
  const centre = (b) => [b[0] + b[2] / 2, b[1] + b[3] / 2];
  // What the first view must show: the branch just (un)folded, else the path, else the root.
  const focusOf = (s) => {
    const wanted = focusAfterRedraw && s.querySelector(`[data-node="${CSS.escape(focusAfterRedraw)}"]`);
    const boxes = wanted ? [nodeBox(wanted)] : boxesOf(s, ".kg-node.on-path");
    return union(boxes.length ? boxes : boxesOf(s, ".kg-node.is-root"));
  };
  const defaultFit = (s) => {
    if (!show(s, numbers(s.dataset.extent), focusOf(s), MIN_SCALE, true)) return;
    s.dataset.home = s.getAttribute("viewBox"); // interact.js's reset button returns here
    s.dataset.fitted = "1";
    fittedWidth = s.parentElement.clientWidth;
    focusAfterRedraw = null;
  };
  // Gradio patches a redrawn chart into the same svg element, dropping `data-fitted` (it is not
  // in the new HTML): that, or a new panel width (a hidden tab has none), calls for a fit.
  const refit = () => {
    const s = chart();
    if (s && (!s.dataset.fitted || s.parentElement.clientWidth !== fittedWidth)) defaultFit(s);
  };
  // The month strip stays at the top of the view, wherever the chart is panned.
  const pinAxis = () => {
    const s = chart();
    const bar = s && s.querySelector(".kg-axis-bar");
    if (!bar) return;
    const drop = numbers(s.getAttribute("viewBox"))[1] - numbers(s.dataset.extent)[1];
    bar.setAttribute("transform", `translate(0,${drop.toFixed(1)})`);
  };
  new MutationObserver(() => {
    refit();
    pinAxis();
  }).observe(element, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-fitted", "viewBox"],
  });
  new ResizeObserver(refit).observe(element);
  refit();

  const find = (query) => {
    const s = chart();
    const q = query.trim().toLowerCase();
    if (!s || !q) return;
    const nodes = [...s.querySelectorAll(".kg-node")];
    const label = (n) => (n.dataset.label || "").toLowerCase();
    const hit = nodes.find((n) => label(n) === q) || nodes.find((n) => label(n).includes(q));
    const note = element.querySelector(".kg-find-note");
    if (note) note.textContent = hit ? "" : "not in this chart";
    if (!hit) return;
    nodes.forEach((n) => n.classList.remove("is-found", "is-selected"));
    hit.classList.add("is-found", "is-selected");
    const c = centre(nodeBox(hit));
    const view = numbers(s.getAttribute("viewBox"));
    const scale = Math.max(s.clientWidth / view[2], MIN_SCALE); // never smaller than readable
    const w = s.clientWidth / scale;
    const h = s.clientHeight / scale;
    s.setAttribute("viewBox", [c[0] - w / 2, c[1] - h / 2, w, h].map((v) => v.toFixed(1)).join(" "));
  };
  const fitSelection = (whole) => {
    const s = chart();
    if (!s) return;
    let boxes = whole ? [numbers(s.dataset.extent)] : boxesOf(s, ".kg-node.is-selected");
    if (!boxes.length) boxes = boxesOf(s, ".kg-node.on-path");
    if (!boxes.length) boxes = boxesOf(s, ".kg-node.is-root");
    const target = whole ? boxes[0] : grow(union(boxes), FIT_PAD);
    show(s, target, target, 0.05, false);
  };

  element.addEventListener("click", (e) => {
    const toggle = e.target.closest("[data-toggle]");
    if (toggle) {
      focusAfterRedraw = toggle.dataset.toggle;
      trigger("select", { index: 0, value: "fold:" + toggle.dataset.toggle, selected: true });
      return;
    }
    const fit = e.target.closest("[data-fit]");
    if (fit) fitSelection(fit.dataset.fit === "whole");
  });
  element.addEventListener("keydown", (e) => {
    if (e.target.matches && e.target.matches("input.kg-find") && e.key === "Enter") {
      e.preventDefault();
      find(e.target.value);
    } else if (e.target.closest && e.target.closest("[data-toggle]") && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      e.target.closest("[data-toggle]").dispatchEvent(new MouseEvent("click", { bubbles: true }));
    }
  });
  // Picking a suggestion from the list centres it at once.
  element.addEventListener("change", (e) => {
    if (e.target.matches && e.target.matches("input.kg-find")) find(e.target.value);
  });
}
