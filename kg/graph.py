"""Build the knowledge graph (a `networkx.MultiDiGraph`) from a corpus, deterministically:
`build_graph`, and `load_graph` (the graph of a list file, shared while it is unchanged).

The graph's shape (node ids, edge kinds, `KnowledgeGraph`) is `kg.schema`'s, re-exported here.
The lineage edges come from `kg.lineage`, the author nodes from `kg.authors`, the `cites`
edges from the full texts' reference lists (`kg.citations`; none without full texts).

A paper's authors are its own (a library file's), else those `data/seed_authors.json` lists
for its title: the shipped list names none (their `authored` edges have method `curated` and
the arXiv page the names were checked against as evidence).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.authors import AuthorTable, SeedIndex, author_node_id, load_seed_authors, name_forms
from kg.citations import Citation, DocumentCitations, document_citations
from kg.corpus import load_corpus
from kg.keys import compact
from kg.lang import pinyin_name
from kg.lexicon import Lexicon, Work, load_lexicon
from kg.lineage import derive_edges, paper_sentences
from kg.names import NameIndex, find_mentions
from kg.paper import Corpus, Paper, slugify
from kg.paths import SHIPPED_CORPUS
from kg.records import Node
from kg.schema import EDGE_LABELS, KnowledgeGraph, node_id_for_paper
from kg.system_names import system_names
from kg.tables import CategoryTable, OrgTable, load_category_table, load_org_table

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["EDGE_LABELS", "KnowledgeGraph", "build_graph", "load_graph", "node_id_for_paper"]


# The versioned model a title opens with: "The Llama 3 Herd of Models" → "Llama 3",
# "Qwen2 Technical Report" → "Qwen2", "DeepSeek-V3 Technical Report" → "DeepSeek-V3".
_LEAD_NAME = re.compile(
    r"^(?:[Tt]he\s+)?(?P<name>[A-Za-z][A-Za-z\-]*?[A-Za-z](?:[\s\-]?[vV])?[\s\-]?\d(?:\.\d)?"
    r"(?:-[A-Za-z]{1,6})?)(?=[\s:,]|$)"
)


def lead_names(title: str) -> tuple[str, ...]:
    """The versioned model name a title opens with, an extra name of its paper (so that the
    known work "Llama 3" becomes the paper "The Llama 3 Herd of Models": one node)."""
    match = _LEAD_NAME.match(title.strip())
    return (match.group("name"),) if match else ()


def load_graph(path: Path | str | None = None) -> KnowledgeGraph:
    """The graph of the list at `path` (default: the shipped list), shared while the file is
    unchanged: treat it as read-only."""
    target = Path(path if path is not None else SHIPPED_CORPUS).resolve()
    try:
        stat = target.stat()
    except OSError:
        return build_graph(load_corpus(target))  # load_corpus raises the clear error
    return _cached_graph(target, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _cached_graph(path: Path, mtime_ns: int, size: int) -> KnowledgeGraph:
    return build_graph(load_corpus(path))


def build_graph(
    corpus: Corpus,
    lexicon: Lexicon | None = None,
    orgs: OrgTable | None = None,
    categories: CategoryTable | None = None,
    seeds: SeedIndex | None = None,
) -> KnowledgeGraph:
    """The knowledge graph of `corpus`; no LLM, same input → same graph."""
    import networkx as nx

    lexicon = lexicon or load_lexicon()
    orgs = orgs or load_org_table()
    categories = categories or load_category_table()
    graph = nx.MultiDiGraph(name="kgrag", corpus=str(corpus.path), sha256=corpus.sha256)
    builder = _Builder(graph, corpus, lexicon, orgs, categories, seeds or load_seed_authors())
    builder.add_nodes()
    kg = KnowledgeGraph(graph, corpus, NameIndex(builder.nodes, tuple(builder.aliases)))
    builder.add_field_edges()
    builder.add_technique_edges(kg)
    cited = document_citations(corpus)
    _add_lineage(kg, lexicon, cited)
    _add_citations(kg, cited)
    return kg


def _add_citations(kg: KnowledgeGraph, cited: tuple[DocumentCitations, ...]) -> None:
    """Each citing paper's reference list on its node, and one `cites` edge per cited paper."""
    for document in cited:
        source = node_id_for_paper(document.paper_id)
        entries = [{"text": c.resolution.reference.text, "paper_id": c.paper_id,
                    "how": c.resolution.how} for c in document.citations]  # fmt: skip
        kg.graph.nodes[source]["references"] = json.dumps(entries, ensure_ascii=False)
        kg.graph.nodes[source]["references_unresolved"] = sum(
            e["paper_id"] is None for e in entries
        )
        by_paper: dict[str, list[Citation]] = {}
        for citation in document.citations:
            if citation.paper_id and node_id_for_paper(citation.paper_id) in kg.graph:
                by_paper.setdefault(citation.paper_id, []).append(citation)
        for paper_id, citations in by_paper.items():
            _add_cites(kg, document.paper_id, paper_id, citations)


def _add_cites(kg: KnowledgeGraph, citing: str, cited: str, citations: list[Citation]) -> None:
    """The edge of the first entry naming `cited` (its text, how it resolved, its page), with
    the sentences citing any of the entries naming it (a list may name a paper twice)."""
    first = citations[0].resolution
    contexts = list(dict.fromkeys((s.page, s.sentence) for c in citations for s in c.sentences))
    kg.graph.add_edge(node_id_for_paper(citing), node_id_for_paper(cited), key="cites",
                      kind="cites", label=EDGE_LABELS["cites"], evidence=first.reference.text,
                      paper=citing, line=0, method=first.how or "", page=first.reference.page,
                      reference=first.index + 1,
                      contexts=json.dumps(contexts, ensure_ascii=False))  # fmt: skip


def _add_lineage(
    kg: KnowledgeGraph, lexicon: Lexicon, cited: tuple[DocumentCitations, ...] = ()
) -> None:
    for edge in derive_edges(kg, lexicon, cited):
        attrs: dict[str, Any] = {
            "kind": edge.kind,
            "label": edge.relation.replace("_", " ") if edge.relation else EDGE_LABELS[edge.kind],
            "evidence": edge.evidence,
            "paper": edge.paper,
            "line": edge.line,
            "method": edge.method,
        }
        if edge.page:  # a full text's sentence: cited by page
            attrs["page"] = edge.page
        if edge.kind == "builds_on":
            attrs["relation"] = edge.relation
            attrs["methods"] = ",".join(edge.methods)
        kg.graph.add_edge(edge.child, edge.parent, key=edge.kind, **attrs)


class _Builder:
    def __init__(
        self,
        graph: nx.MultiDiGraph,
        corpus: Corpus,
        lexicon: Lexicon,
        orgs: OrgTable,
        categories: CategoryTable,
        seeds: SeedIndex,
    ) -> None:
        self.graph = graph
        self.corpus = corpus
        self.lexicon = lexicon
        self.orgs = orgs
        self.categories = categories
        self.nodes: dict[str, Node] = {}
        self.aliases: list[tuple[str, str]] = []
        self.paper_keys: dict[str, str] = {}
        self.authors = AuthorTable({})
        self.credits = {p.id: _credits(p, seeds) for p in corpus.papers}

    def add_nodes(self) -> None:
        leads = _own_lead_names(self.corpus.papers, self._names_taken())
        for paper in self.corpus.papers:
            self._add_paper(paper, leads.get(paper.id, ()))
        self.paper_keys = {
            compact(a): node for a, node in self.aliases if node.startswith("paper:")
        }
        for cat in self.categories.categories:
            self._add(f"category:{cat.key}", "category", cat.label_en, None,
                      (cat.key, cat.label_zh, cat.label_en, *cat.aliases),
                      label_zh=cat.label_zh)  # fmt: skip
        for tech in self.lexicon.techniques:
            self._add(f"technique:{tech.id}", "technique", tech.name, None,
                      (tech.id, tech.name, tech.name_zh, *tech.aliases), name_zh=tech.name_zh)  # fmt: skip
        for org in sorted({o for p in self.corpus.papers for o in p.organizations}):
            self._add_org(org)
        for work in self.lexicon.works:
            self._add_work(work)
        self._add_authors()

    def add_field_edges(self) -> None:
        for paper in self.corpus.papers:
            pid = node_id_for_paper(paper.id)
            for org in paper.organizations:
                self._edge(pid, f"org:{org}", "published_by", paper.organizations_raw, paper,
                           paper.org_line, "field")  # fmt: skip
            if paper.category:  # a library paper may have none
                self._edge(pid, f"category:{paper.category}", "in_category", paper.category_label,
                           paper, paper.line, "field")  # fmt: skip
            self._add_authored(paper, pid)
        for org in list(self.graph.nodes):
            parent = self.graph.nodes[org].get("part_of")
            if parent:
                self.graph.add_edge(org, f"org:{parent}", key="part_of", kind="part_of",
                                    label="part of", method="curated", evidence="organizations.json",
                                    paper="", line=0)  # fmt: skip

    def _add_authored(self, paper: Paper, pid: str) -> None:
        """`authored` edges in the paper's order: its own names (evidence: the spelling), or the
        curated list's (evidence: where the names were checked)."""
        names, source = self.credits[paper.id]
        method, line = ("curated", 0) if source else ("field", paper.line)
        for position, name in enumerate(names, 1):
            author = author_node_id(self.authors.canonical(name))
            if not self.graph.has_edge(author, pid, key="authored"):
                self.graph.add_edge(author, pid, key="authored", kind="authored",
                                    label="authored", evidence=source or name, paper=paper.id,
                                    line=line, method=method, position=position)  # fmt: skip

    def add_technique_edges(self, kg: KnowledgeGraph) -> None:
        for paper in self.corpus.papers:
            pid = node_id_for_paper(paper.id)
            for sentence in paper_sentences(paper):
                for mention in find_mentions(kg, sentence.text, kinds=("technique",)):
                    if self.graph.has_edge(pid, mention.node.id, key="uses_technique"):
                        continue
                    self._edge(pid, mention.node.id, "uses_technique", sentence.text, paper,
                               sentence.line, "lexicon")  # fmt: skip

    def _edge(self, source: str, target: str, kind: str, evidence: str, paper: Paper,
              line: int, method: str) -> None:  # fmt: skip
        self.graph.add_edge(source, target, key=kind, kind=kind, label=EDGE_LABELS[kind],
                            evidence=evidence, paper=paper.id, line=line, method=method)  # fmt: skip

    def _names_taken(self) -> frozenset[str]:
        """Compact keys of every curated work, technique and organisation name."""
        works = [n for w in self.lexicon.works for n in (w.name, *w.aliases)]
        techniques = [n for t in self.lexicon.techniques for n in (t.name, t.name_zh, *t.aliases)]
        return frozenset(compact(n) for n in (*works, *techniques, *self.orgs.aliases()) if n)

    def _add_paper(self, paper: Paper, leads: tuple[str, ...]) -> None:
        names = (
            paper.title,
            paper.short_name,
            paper.id,
            *leads,
            *self.lexicon.aliases_for_title(paper.title),
            *filter(None, [pinyin_name(paper.short_name)]),  # "Qingwu" for 青梧
        )
        self._add(
            node_id_for_paper(paper.id), "paper", paper.short_name, paper.date, names,
            paper_id=paper.id, title=paper.title, category=paper.category,
            organizations="; ".join(paper.organizations), influence=paper.influence,
            abstract=paper.abstract, source=paper.source, line=paper.line,
            **_library_attributes(paper, *self.credits[paper.id]),
        )  # fmt: skip

    def _add_org(self, name: str) -> None:
        node_id = f"org:{name}"
        if node_id in self.nodes:
            return
        org = self.orgs.get(name)
        aliases = (name, *(org.aliases if org else ()))
        parent = org.part_of if org else None
        self._add(node_id, "organization", name, None, aliases, part_of=parent or "",
                  in_alias_table=org is not None)  # fmt: skip
        if parent:
            self._add_org(parent)

    def _add_work(self, work: Work) -> None:
        keys = {compact(n) for n in (work.name, *work.aliases)}
        paper_id = self._paper_with_name(keys)
        if paper_id is not None:  # the corpus has this work: its names join the paper's
            self.aliases.extend((a, paper_id) for a in (work.name, *work.aliases))
            return
        self._add(
            f"work:{slugify(work.name)}", "work", work.name, work.date or None,
            (work.name, *work.aliases), organization=work.organization, work_type=work.type,
            generic=work.generic,
        )  # fmt: skip

    def _add_authors(self) -> None:
        """One node per person: spellings joined by `kg.authors.AuthorTable`."""
        spellings = [name for names, _ in self.credits.values() for name in names]
        self.authors = AuthorTable.build(spellings)
        names: dict[str, list[str]] = {}
        for spelling in spellings:
            names.setdefault(self.authors.canonical(spelling), []).append(spelling)
        for canonical, variants in names.items():
            self._add(author_node_id(canonical), "author", canonical, None,
                      (canonical, *variants, *self.authors.spellings(canonical),
                       *name_forms(canonical)))  # fmt: skip

    def _paper_with_name(self, keys: set[str]) -> str | None:
        return next((self.paper_keys[k] for k in sorted(keys) if k in self.paper_keys), None)

    def _add(self, node_id: str, kind: str, label: str, date: str | None,
             names: tuple[str, ...], **attrs: Any) -> None:  # fmt: skip
        paper_id, title = attrs.get("paper_id"), attrs.get("title")
        self.nodes[node_id] = Node(node_id, kind, label, date, paper_id, title)
        data = {"kind": kind, "label": label, **attrs}
        if date:
            data["date"] = date
        self.graph.add_node(node_id, **data)
        self.aliases.extend((n, node_id) for n in dict.fromkeys(names) if n)


def _own_lead_names(papers: Sequence[Paper], taken: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Each paper's extra names that name it alone: the versioned name its title opens with
    (`lead_names`) and the names its text gives what it builds (`kg.system_names`: "we build
    vLLM"), the latter only when no work, technique or organisation has it (`taken`, compact
    keys: "称为 GPT" must not make the work GPT this paper). "Llama 2" opening "Llama 2 Meets
    Vision" is no name of that paper when another paper is called or opens with "Llama 2":
    kept, it would make every mention of Llama 2 name them all (wrong lineage edges, and a
    cost that grows with the square of such papers)."""
    claims: dict[str, set[str]] = {}
    leads: dict[str, tuple[str, ...]] = {}
    for paper in papers:
        lead = lead_names(paper.title)
        known = (paper.title, paper.short_name, paper.id, *lead)
        built = system_names((paper.influence, paper.abstract), known)
        leads[paper.id] = (*lead, *(n for n in built if compact(n) not in taken))
        for name in (*known, *leads[paper.id]):
            claims.setdefault(compact(name), set()).add(paper.id)
    return {
        pid: tuple(dict.fromkeys(n for n in names if claims[compact(n)] == {pid}))
        for pid, names in leads.items()
        if names
    }


def _credits(paper: Paper, seeds: SeedIndex) -> tuple[tuple[str, ...], str]:
    """A paper's authors and where they come from: its own ("" source), else the curated
    list's for its title or arXiv id (source: the page they were checked against), else none."""
    if paper.authors:
        return paper.authors, ""
    found = seeds.find(paper.title, paper.arxiv_id)
    return (found.authors, found.source) if found else ((), "")


def _library_attributes(paper: Paper, authors: tuple[str, ...], source: str) -> dict[str, str]:
    """Authors (and where curated ones come from), venue and identifiers of a paper, as scalar
    node attributes (exports take scalars); of the rest only those the paper has."""
    values = {
        "venue": paper.venue,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "url": paper.url,
        "keywords": "; ".join(paper.keywords),
    }
    # every paper says who wrote it ("" when unknown), so that every export has the columns
    return {"authors": "; ".join(authors), "authors_source": source} | {
        k: v for k, v in values.items() if v
    }
