"""The lineage chart stays readable: measured in real Chromium against a real `kgrag serve`.

For LLaMA's family (the shipped corpus, default options, then with organisations and
techniques) and for an invented 60-work family (a paper list written in tmp_path whose
abstracts state the lineage, served with `--corpus`), the chart is measured, not just loaded:
every text's rendered size at the default fit, every edge sampled against every other box,
the legend and tool bar against every visible box, the highlighted path's edges. The layout
itself (Graphviz `dot`) is also checked without a browser. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.corpus import SHIPPED_CORPUS, load_corpus
from kg.graph import build_graph
from kg.queries import neighbourhood as graph_neighbourhood
from tests.browser.live import CHROMIUM, CHROMIUM_ARGS, REPO, LiveServer, live_server
from tests.fixtures.kg import paper_entry
from ui.app_graph import GraphView, ViewNode, fold, layout, neighbourhood, render_svg

ARTIFACTS = REPO / "test-artifacts"
MIN_LABEL_PX = 12.0
FAMILY_SIZE = 60

# ---- an invented family, stated in the abstracts -------------------------------------------

HEADS = ["Ar", "Bel", "Cor", "Dun", "El", "Fen", "Gal", "Hal", "Ith", "Jor", "Kel", "Lum",
         "Mor", "Nal", "Oth", "Pra"]  # fmt: skip
TAILS = ["ven", "dra", "lix", "mar", "tos", "quin", "rel", "zan"]
TOPICS = ["Sparse Experts at Scale", "Long-Context Retrieval", "Instruction Following",
          "Efficient Attention", "Multilingual Pretraining", "Visual Grounding",
          "Tool Use for Agents", "Preference Optimisation"]  # fmt: skip
CUES = [  # each names the parent the way the graph's lineage cues read it
    "{child} 基于 {parent} 构建,在多项基准上取得提升。",
    "{child} is fine-tuned from {parent} on curated dialogue data.",
    "{child} is the successor to {parent}, trained on twice the tokens.",
    "我们在 {parent} 的基础上提出了 {child}。",
]


def family_names(n: int) -> list[str]:
    """`n` distinct invented names (no digits, so no version rule links them)."""
    pairs = [h + t for t in TAILS for h in HEADS]
    return [pairs[(i * 37) % len(pairs)] for i in range(n)]


def family_parents(n: int) -> list[int | None]:
    """A wide family three generations deep: 4 children, then 4, then 3 each (1+4+16+39)."""
    parents: list[int | None] = [None]
    generation = [0]
    while len(parents) < n:
        born = []
        for node in generation:
            for _ in range(4 if len(parents) < 21 else 3):
                if len(parents) < n:
                    parents.append(node)
                    born.append(len(parents) - 1)
        generation = born
    return parents


def family_corpus(n: int = FAMILY_SIZE) -> str:
    names, parents = family_names(n), family_parents(n)
    generation = [0] * n
    entries = []
    for i, parent in enumerate(parents):
        generation[i] = 0 if parent is None else generation[parent] + 1
        month = 1 + 6 * generation[i] + i % 6  # later generations later, spread within each
        date = f"{2022 + (month - 1) // 12}.{(month - 1) % 12 + 1:02d}"
        abstract = ("We present a family of open language models."
                    if parent is None else CUES[i % len(CUES)].format(child=names[i], parent=names[parent]))  # fmt: skip
        entries.append(paper_entry(f"{names[i]}: {TOPICS[i % len(TOPICS)]}", date=date,
                                   org=["Northwind Lab", "Bluefin AI", "Kestrel Institute"][i % 3],
                                   influence="invented for the chart tests", abstract=abstract))  # fmt: skip
    return "基座\n\n" + "\n".join(entries)


@pytest.fixture(scope="module")
def family_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("family") / "family.txt"
    path.write_text(family_corpus(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def family_kg(family_path: Path) -> Any:
    return build_graph(load_corpus(family_path))


@pytest.fixture(scope="module")
def family_root() -> str:
    return "paper:" + family_names(1)[0].lower()


# ---- the layout, without a browser ---------------------------------------------------------


def bezier_points(d: str, steps: int = 24) -> list[tuple[float, float]]:
    """Points along an SVG path of M + cubic C segments, as `render_svg` writes them."""
    xy = [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]
    points = []
    for i in range(0, len(xy) - 3, 3):
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = xy[i : i + 4]
        for k in range(steps + 1):
            t = k / steps
            w = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3)
            points.append((w[0] * ax + w[1] * bx + w[2] * cx + w[3] * dx,
                           w[0] * ay + w[1] * by + w[2] * cy + w[3] * dy))  # fmt: skip
    return points


def inside(node: ViewNode, x: float, y: float, tolerance: float = 1.0) -> bool:
    return (node.x + tolerance < x < node.x + node.w - tolerance
            and node.y + tolerance < y < node.y + node.h - tolerance)  # fmt: skip


def crossings(view: GraphView) -> list[tuple[str, str, str]]:
    """(parent, child, node) for each edge that runs through a box other than its two ends."""
    found = []
    for edge in view.edges:
        others = [n for n in view.nodes if n.id not in (edge.parent, edge.child)]
        points = bezier_points(edge.d)
        found += [
            (edge.parent, edge.child, n.id) for n in others if any(inside(n, *p) for p in points)
        ]
    return found


def labels_on_boxes(view: GraphView) -> list[tuple[str, str]]:
    """(edge child, node) for each relation label whose text box meets a node's box."""
    from ui.app_graph import EDGE_LH, EDGE_PX, _relation_lines, text_width

    found = []
    for e in view.lineage_edges():
        lines = _relation_lines(e.relation)
        assert e.label_at is not None
        w, h = max(text_width(t, EDGE_PX) for t in lines), len(lines) * EDGE_LH
        x, y = e.label_at[0] - w / 2, e.label_at[1] - h / 2
        found += [(e.child, n.id) for n in view.nodes
                  if x < n.x + n.w and n.x < x + w and y < n.y + n.h and n.y < y + h]  # fmt: skip
    return found


def overlapping_boxes(view: GraphView) -> list[tuple[str, str]]:
    nodes = view.nodes
    return [(a.id, b.id) for i, a in enumerate(nodes) for b in nodes[i + 1 :]
            if a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h]  # fmt: skip


@pytest.mark.parametrize("extras", [False, True])
def test_llama_s_family_is_routed_around_every_box(kg: Any, extras: bool) -> None:
    view = neighbourhood(kg, "paper:llama", 3, extras, extras)
    assert len(view.lineage_edges()) >= 6 and all(e.d for e in view.edges)
    assert crossings(view) == [] and overlapping_boxes(view) == [] and labels_on_boxes(view) == []


def test_time_flows_left_to_right_one_column_per_month(kg: Any) -> None:
    view = neighbourhood(kg, "paper:llama", 3)
    centre = {n.id: n.x + n.w / 2 for n in view.nodes}
    by_month: dict[str, set[float]] = {}
    for n in view.nodes:
        by_month.setdefault(n.date, set()).add(round(centre[n.id]))
    assert all(len(xs) == 1 for xs in by_month.values())  # a month is one column
    columns = [by_month[m].pop() for m in sorted(by_month)]
    assert columns == sorted(columns) and len(set(columns)) == len(columns)
    assert [t.month for t in view.ticks] == sorted(by_month)


def test_the_sixty_work_family_is_derived_and_laid_out_cleanly(
    family_kg: Any, family_root: str
) -> None:
    near = graph_neighbourhood(family_kg, family_root, 3)
    assert len(near.works) == FAMILY_SIZE and len(near.lineage_edges()) == FAMILY_SIZE - 1
    view = layout(near)
    assert crossings(view) == [] and overlapping_boxes(view) == [] and labels_on_boxes(view) == []


def test_a_folded_work_hides_its_descendants_and_says_how_many(kg: Any) -> None:
    near = graph_neighbourhood(kg, "paper:llama", 3)
    smaller, counts = fold(near, ["work:vicuna"])
    assert {n.id for n in near.works} - {n.id for n in smaller.works} == {
        "work:llava", "paper:improved-baselines-with-visual-instruction-tuning"}  # fmt: skip
    assert counts == {"work:vicuna": 2}
    assert fold(near, ["paper:llama"])[1] == {"paper:llama": 6}  # ... but the root stays
    assert "paper:llama" in {n.id for n in fold(near, ["paper:llama"])[0].works}
    drawn = layout(near, ["work:vicuna"])
    assert [n.folded for n in drawn.nodes if n.id == "work:vicuna"] == [2]
    assert 'data-toggle="work:vicuna"' in render_svg(drawn) and ">+2<" in render_svg(drawn)


def test_a_redraw_of_the_same_view_reuses_the_layout(kg: Any) -> None:
    from ui.app_dot import dot_layout

    neighbourhood(kg, "paper:code-llama", 2, True, False)
    hits = dot_layout.cache_info().hits
    neighbourhood(kg, "paper:code-llama", 2, True, False)
    assert dot_layout.cache_info().hits == hits + 1


def test_no_corpus_text_reaches_dot(kg: Any) -> None:
    from ui.app_graph import _dot_source, _size

    near = graph_neighbourhood(kg, "paper:llama", 3, True, True)
    names = {n.id: f"n{i}" for i, n in enumerate(near.nodes)}
    source = _dot_source(near, names, {n.id: _size(n, False, 0) for n in near.nodes})
    assert not [n.label for n in near.nodes if n.label in source]
    assert "paper:" not in source and "org:" not in source


def test_without_graphviz_the_tab_says_so_and_keeps_the_evidence(monkeypatch: Any) -> None:
    from ui import app_dot
    from ui.app_lineage import lineage_html
    from ui.app_services import AppServices, ServeOptions

    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    app_dot.dot_layout.cache_clear()
    monkeypatch.setattr(app_dot.shutil, "which", lambda _: None)
    html = lineage_html(services, "LLaMA", "", 3, False, False)
    assert "kg-error" in html and "apt-get install graphviz" in html and "Traceback" not in html
    assert "kg-evidence-table" in html and "Vicuna" in html


def test_a_dot_run_past_its_time_limit_is_a_message(kg: Any, monkeypatch: Any) -> None:
    from ui import app_dot

    def too_slow(*args: Any, **kwargs: Any) -> Any:
        raise subprocess.TimeoutExpired("dot", kwargs.get("timeout", 0))

    app_dot.dot_layout.cache_clear()
    monkeypatch.setattr(app_dot.subprocess, "run", too_slow)
    with pytest.raises(app_dot.LayoutError, match="lower the depth or collapse"):
        neighbourhood(kg, "paper:llama", 3)


# ---- the chart in Chromium ------------------------------------------------------------------

MEASURE_JS = """() => {
  const svg = document.querySelector('#kg-lineage-graph svg.kg-svg');
  const out = {fonts: [], crossings: [], legend: [], bar: [], spills: [], hidden: [], path: [], labels: []};
  for (const t of svg.querySelectorAll('text')) {
    if (!t.textContent.trim()) continue;
    const px = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
    out.fonts.push([px, t.textContent]);
  }
  const boxes = [...svg.querySelectorAll('.kg-node')].map((g) => ({
    id: g.dataset.node, rect: g.querySelector('rect'), label: g.querySelectorAll('.kg-node-label')}));
  for (const e of svg.querySelectorAll('.kg-edge')) {
    const path = e.querySelector('.kg-line');
    const toPath = path.getCTM().inverse();
    const length = path.getTotalLength();
    const points = [];
    for (let l = 0; l <= length; l += 2) points.push(path.getPointAtLength(l));
    for (const b of boxes) {
      if (b.id === e.dataset.parent || b.id === e.dataset.child) continue;
      const bb = b.rect.getBBox();
      const m = toPath.multiply(b.rect.getCTM());
      const a = new DOMPoint(bb.x, bb.y).matrixTransform(m);
      const z = new DOMPoint(bb.x + bb.width, bb.y + bb.height).matrixTransform(m);
      const hit = points.find((p) => p.x > a.x + 1 && p.x < z.x - 1 && p.y > a.y + 1 && p.y < z.y - 1);
      if (hit) out.crossings.push([e.dataset.parent, e.dataset.child, b.id]);
    }
  }
  const view = svg.getBoundingClientRect();
  const meets = (r, s) => r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
  const clip = (r) => new DOMRect(Math.max(r.left, view.left), Math.max(r.top, view.top),
    Math.min(r.right, view.right) - Math.max(r.left, view.left),
    Math.min(r.bottom, view.bottom) - Math.max(r.top, view.top));
  const legend = document.querySelector('#kg-lineage-graph .kg-legend').getBoundingClientRect();
  const bar = document.querySelector('#kg-lineage-graph .kg-chart-bar').getBoundingClientRect();
  for (const b of boxes) {
    const r = b.rect.getBoundingClientRect();
    const seen = meets(r, view) ? clip(r) : null;
    if (!seen || seen.width < 1 || seen.height < 1) { out.hidden.push(b.id); continue; }
    if (meets(seen, legend)) out.legend.push(b.id);
    if (meets(seen, bar)) out.bar.push(b.id);
    for (const t of b.label) if (t.getBBox().width > b.rect.getBBox().width - 4) out.spills.push(t.textContent);
  }
  for (const t of svg.querySelectorAll('.kg-edge-label')) {
    const l = t.getBoundingClientRect();
    for (const b of boxes) {
      const r = b.rect.getBoundingClientRect();
      if (l.left < r.right - 1 && r.left + 1 < l.right && l.top < r.bottom - 1 && r.top + 1 < l.bottom)
        out.labels.push([t.textContent, b.id]);
    }
  }
  for (const e of svg.querySelectorAll('.kg-edge.on-path')) out.path.push([e.dataset.parent, e.dataset.child]);
  out.minFont = Math.min(...out.fonts.map((f) => f[0]));
  out.nodes = boxes.length;
  out.panel = [Math.round(view.width), Math.round(view.height)];
  return out;
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("chart"), extra_args=["--no-warm-up"]) as live:
        yield live


@pytest.fixture(scope="module")
def invented(tmp_path_factory: pytest.TempPathFactory, family_path: Path) -> Iterator[LiveServer]:
    args = ["--no-warm-up", "--corpus", str(family_path)]
    with live_server(tmp_path_factory.mktemp("chart60"), extra_args=args) as live:
        yield live


def open_chart(chromium: Any, server: LiveServer) -> Any:
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url)
    page.get_by_role("tab", name="Lineage").click()
    fitted(page)
    return page


def fitted(page: Any, selector: str = ".kg-node") -> dict[str, Any]:
    """Wait for a chart holding `selector` that lineage.js has fitted; measure it."""
    page.locator(f"#kg-lineage-graph svg.kg-svg[data-fitted] {selector}").first.wait_for()
    page.wait_for_timeout(150)  # a resize may refit once more
    measured: dict[str, Any] = page.evaluate(MEASURE_JS)
    return measured


def assert_readable(measured: dict[str, Any]) -> None:
    small = [f for f in measured["fonts"] if f[0] < MIN_LABEL_PX]
    assert measured["minFont"] >= MIN_LABEL_PX, small[:5]
    assert measured["crossings"] == []
    assert measured["legend"] == [] and measured["bar"] == []
    assert measured["spills"] == []  # every title fits inside its box
    assert measured["labels"] == []  # no relation label covers a box


def shoot(page: Any, name: str) -> None:
    """The Lineage tab as the window shows it: the controls, the chart and what follows."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    box = page.locator("#tab-lineage").bounding_box()
    clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 900)}
    page.screenshot(path=str(ARTIFACTS / name), clip=clip)


def redraw_with(page: Any, action: Any, selector: str) -> dict[str, Any]:
    page.evaluate(
        "document.querySelector('#kg-lineage-graph svg.kg-svg').removeAttribute('data-fitted')"
    )
    action()
    return fitted(page, selector)


@pytest.mark.browser
def test_llama_s_family_reads_at_twelve_pixels_or_more(chromium: Any, shipped: LiveServer) -> None:
    page = open_chart(chromium, shipped)
    page.locator('.kg-node.is-root[data-node="paper:llama"]').wait_for()
    measured = fitted(page)
    print(f"\nLLaMA default: {measured['nodes']} nodes, min label {measured['minFont']:.2f} px, "
          f"crossings {len(measured['crossings'])}, legend overlaps {len(measured['legend'])}, "
          f"panel {measured['panel']}")  # fmt: skip
    assert_readable(measured)
    assert measured["hidden"] == []  # the whole family in view at the default fit
    assert measured["panel"][1] >= 200  # the panel takes the chart's height, not a thin band
    shoot(page, "lineage-llama.png")

    redraw_with(
        page, lambda: page.locator("#kg-show-orgs input").check(), ".kg-node.kind-organization"
    )
    measured = redraw_with(page, lambda: page.locator("#kg-show-techniques input").check(),
                           ".kg-node.kind-technique")  # fmt: skip
    print(f"LLaMA + organisations + techniques: {measured['nodes']} nodes, min label "
          f"{measured['minFont']:.2f} px, crossings {len(measured['crossings'])}, legend overlaps "
          f"{len(measured['legend'])}, panel {measured['panel']}")  # fmt: skip
    assert_readable(measured)
    shoot(page, "lineage-llama-extras.png")
    page.close()


@pytest.mark.browser
def test_the_highlighted_path_marks_exactly_its_edges(chromium: Any, shipped: LiveServer) -> None:
    page = open_chart(chromium, shipped)
    target = page.locator("#kg-lineage-target input")
    target.fill("Improved Baselines with Visual Instruction Tuning")
    measured = redraw_with(page, lambda: target.press("Enter"), ".kg-edge.on-path")
    assert sorted(map(tuple, measured["path"])) == sorted([
        ("paper:llama", "work:vicuna"), ("work:vicuna", "work:llava"),
        ("work:llava", "paper:improved-baselines-with-visual-instruction-tuning")])  # fmt: skip
    assert_readable(measured)
    shoot(page, "lineage-path.png")
    page.close()


@pytest.mark.browser
def test_fold_find_fit_open_and_read_evidence(chromium: Any, shipped: LiveServer) -> None:
    page = open_chart(chromium, shipped)
    graph = page.locator("#kg-lineage-graph")
    fitted(page)
    # Fold Vicuna's branch: LLaVA and its successor go, the toggle counts them; unfold again.
    fitted_now = redraw_with(page, lambda: graph.locator('[data-toggle="work:vicuna"]').click(),
                             ".kg-toggle.is-folded")  # fmt: skip
    assert graph.locator('[data-node="work:llava"]').count() == 0
    assert (graph.locator('[data-toggle="work:vicuna"] text').text_content() or "").strip() == "+2"
    assert_readable(fitted_now)
    redraw_with(
        page,
        lambda: graph.locator('[data-toggle="work:vicuna"]').click(),
        '[data-node="work:llava"]',
    )
    # Find a node: it is selected and centred.
    box = graph.locator(".kg-find")
    box.fill("code llama")
    box.press("Enter")
    node = graph.locator('.kg-node.is-found[data-node="paper:code-llama"]')
    node.wait_for()
    assert in_view(page, '[data-node="paper:code-llama"]')
    # Fit a selection of two far-apart nodes, after zooming in on neither.
    page.locator("#kg-lineage-graph [data-zoom='reset']").click()
    graph.locator('.kg-node[data-node="paper:llama"]').click(modifiers=["Shift"])
    far = '.kg-node[data-node="paper:improved-baselines-with-visual-instruction-tuning"]'
    graph.locator(far).click(modifiers=["Shift"])
    graph.locator("[data-zoom='in']").click()
    graph.locator("[data-zoom='in']").click()
    assert not in_view(page, '[data-node="paper:llama"]')
    graph.locator("[data-fit='selection']").click()
    assert in_view(page, '[data-node="paper:llama"]')
    assert in_view(page, '[data-node="paper:improved-baselines-with-visual-instruction-tuning"]')
    # A click opens the card; an edge gives its evidence.
    graph.locator('.kg-node[data-node="paper:llama-2"]').click()
    page.wait_for_selector('#kg-lineage-card .kg-card[data-card="llama-2"]')
    graph.locator(".kg-edge.kind-builds_on .kg-hit").first.click(force=True)
    assert graph.locator(".kg-evidence-box.is-set").count() == 1
    page.close()


def in_view(page: Any, selector: str) -> bool:
    return bool(page.evaluate("""(sel) => {
      const svg = document.querySelector('#kg-lineage-graph svg.kg-svg');
      const v = svg.getBoundingClientRect();
      const r = svg.querySelector(sel).getBoundingClientRect();
      return r.left >= v.left - 1 && r.right <= v.right + 1 && r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
    }""", selector))  # fmt: skip


@pytest.mark.browser
def test_a_sixty_work_family_stays_legible(
    chromium: Any, invented: LiveServer, family_root: str
) -> None:
    page = open_chart(chromium, invented)
    page.locator(f'.kg-node.is-root[data-node="{family_root}"]').wait_for()
    measured = fitted(page)
    print(f"\n60-work family: {measured['nodes']} nodes, min label {measured['minFont']:.2f} px, "
          f"crossings {len(measured['crossings'])}, legend overlaps {len(measured['legend'])}, "
          f"panel {measured['panel']}")  # fmt: skip
    assert measured["nodes"] == FAMILY_SIZE
    assert_readable(measured)
    assert in_view(page, f'[data-node="{family_root}"]')
    shoot(page, "lineage-60.png")
    page.locator("#kg-lineage-graph [data-fit='whole']").click()
    shoot(page, "lineage-60-whole.png")  # the shape of the family, at a glance
    page.locator("#kg-lineage-graph [data-zoom='reset']").click()
    # A path to a last-generation work marks its three edges only.
    leaf = family_names(FAMILY_SIZE)[-1]
    target = page.locator("#kg-lineage-target input")
    target.fill(leaf)
    measured = redraw_with(page, lambda: target.press("Enter"), ".kg-edge.on-path")
    assert len(measured["path"]) == 3 and f"paper:{leaf.lower()}" in {
        c for _, c in measured["path"]
    }
    assert_readable(measured)
    page.close()
