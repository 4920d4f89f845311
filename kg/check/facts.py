"""Checks of what the graph states: a lineage edge whose child is dated before its parent,
curated lineage naming an unknown work, undated lineage parents, a versioned successor
credited to another organisation than its predecessor, and a paper credited to another
organisation than `data/works.json` gives the same work (Kosmos-2).
"""

from __future__ import annotations

from kg.check.problems import Problem
from kg.keys import compact
from kg.lexicon import Lexicon
from kg.lineage import unresolved_curated
from kg.paper import Paper
from kg.schema import KnowledgeGraph
from kg.tables import OrgTable, load_org_table

__all__ = [
    "lineage_dates",
    "org_family",
    "orgs_of",
    "successor_organizations",
    "undated_parents",
    "undefined_works",
    "work_organizations",
]


def lineage_dates(kg: KnowledgeGraph) -> list[Problem]:
    found = []
    for child, parent, key, data in kg.graph.edges(keys=True, data=True):
        if key != "builds_on":
            continue
        c, p = kg.node(child), kg.node(parent)
        if c.date and p.date and c.date < p.date:
            found.append(Problem(
                "error", "lineage-date",
                f"{c.label} ({c.date}) is said to build on {p.label} ({p.date}), which is dated "
                f"later ({data.get('method')}: {str(data.get('evidence', ''))[:80]}).",
                int(data.get("line") or 0) or None,
                str(data.get("paper") or "") or None,
            ))  # fmt: skip
    return found


def undefined_works(kg: KnowledgeGraph, lexicon: Lexicon) -> list[Problem]:
    return [
        Problem(
            "error",
            "undefined-work",
            f"data/lineage.json names {name!r}, which {why}; add it to data/works.json.",
        )  # fmt: skip
        for name, why in unresolved_curated(kg, lexicon)
    ]


def undated_parents(kg: KnowledgeGraph) -> list[Problem]:
    parents = sorted({v for _, v, k in kg.graph.edges(keys=True) if k == "builds_on"})
    return [
        Problem(
            "warning",
            "undated-work",
            f"{kg.node(v).label} is a lineage parent without a date, so lineage dates "
            "cannot be checked; add its date to data/works.json.",
        )  # fmt: skip
        for v in parents
        if not kg.node(v).date
    ]


def successor_organizations(kg: KnowledgeGraph) -> list[Problem]:
    """A versioned successor normally comes from its predecessor's organisation."""
    found = []
    for child, parent, key, data in kg.graph.edges(keys=True, data=True):
        if key != "builds_on" or data.get("relation") != "successor":
            continue
        mine = orgs_of(kg, child)
        theirs = orgs_of(kg, parent)
        if mine and theirs and not mine & theirs:
            c, p = kg.node(child), kg.node(parent)
            found.append(Problem("warning", "successor-organization",
                                 f"{c.label} is credited to {', '.join(sorted(mine))} but its "
                                 f"predecessor {p.label} to {', '.join(sorted(theirs))}; check "
                                 "the 发表单位.", kg.graph.nodes[child].get("line"),
                                 c.paper_id))  # fmt: skip
    return found


def work_organizations(kg: KnowledgeGraph, lexicon: Lexicon) -> list[Problem]:
    """A paper that is a known work of `data/works.json` (the same name) should come from the
    organisation the works file gives it, or from one of its labs or its parent: else one of
    the two is wrong (the shipped list credits Kosmos-2 to Salesforce; it is Microsoft's)."""
    table = load_org_table()
    found = []
    for work in lexicon.works:
        paper = _paper_of_work(kg, (work.name, *work.aliases))
        if paper is None or not work.organization or not paper.organizations:
            continue
        mine = {o for org in paper.organizations for o in org_family(table, org)}
        if not mine & org_family(table, work.organization):
            found.append(Problem("warning", "work-organization",
                                 f"{paper.short_name} is credited to "
                                 f"{', '.join(paper.organizations)}, but data/works.json gives "
                                 f"the same work ({work.name}) to {work.organization}; correct "
                                 f"the wrong one (`kgrag edit {paper.id} --org ORG`, or "
                                 "data/works.json).", paper.org_line or paper.line, paper.id))  # fmt: skip
    return found


def _paper_of_work(kg: KnowledgeGraph, names: tuple[str, ...]) -> Paper | None:
    """The one corpus paper a work of the lexicon is (one of its names is the paper's), as
    `kg.graph` merges them; None when it is no paper or the names point at several."""
    ids = {i for n in names for i in kg.names.by_key.get(compact(n), ()) if i.startswith("paper:")}
    if len(ids) != 1:
        return None
    return kg.corpus.by_id().get(kg.node(ids.pop()).paper_id or "")


def orgs_of(kg: KnowledgeGraph, node_id: str) -> set[str]:
    data = kg.graph.nodes[node_id]
    if data.get("kind") == "work":
        org = data.get("organization") or ""
        return {org} if org else set()
    orgs = {v for _, v, k in kg.graph.out_edges(node_id, keys=True) if k == "published_by"}
    # A lab and its parent count as the same organisation.
    parents = {p for o in orgs for _, p, k in kg.graph.out_edges(o, keys=True) if k == "part_of"}
    return {o.removeprefix("org:") for o in orgs | parents}


def org_family(table: OrgTable, name: str) -> set[str]:
    """An organisation and its parent (a lab and its parent count as the same)."""
    org = table.get(name)
    return {name, org.part_of} if org is not None and org.part_of else {name}
