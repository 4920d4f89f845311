"""`kgrag search`, `kgrag index` and `kgrag eval retrieval`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ui.commands.common import (
    add_index_options,
    add_json_option,
    corpus_from,
    print_json,
    settings_from,
)

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from rag.indexing.index import VectorIndex
    from rag.retrieval.retrieve import Retriever
    from rag.settings import Settings


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add `search`, `index` and `eval retrieval` to the parser."""
    search = commands.add_parser(
        "search",
        help="hybrid search (dense + BM25 + graph expansion) over the papers",
        description="Find the papers that best match a query in English or Chinese. The index "
        "is built or refreshed first when it is missing or stale.",
    )
    search.add_argument("query", help="what to look for, in English or Chinese")
    search.add_argument("-k", type=int, default=5, help="direct hits to return (default 5)")
    search.add_argument("--no-expand", action="store_true", help="leave out graph-expanded hits")
    add_index_options(search)
    add_json_option(search)
    search.set_defaults(handler=run_search)

    index = commands.add_parser(
        "index",
        help="build or refresh the search index (only when missing or stale)",
        description="Bring the index (FAISS, or the store --vector-uri names) up to date with the "
        "corpus: reuse it when fresh, embed only new passages when papers were added, rebuild "
        "it when the embedder changed or the store is corrupt or half-written.",
    )
    add_index_options(index)
    index.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="embed the new passages with Ray Data over workers holding the embedder: a local "
        "Ray when no ADDRESS is given, else the cluster at ADDRESS (ray://host:10001 or "
        "host:6379); needs `pip install 'kgrag[ray]'`",
    )
    index.add_argument(
        "--ray-workers",
        type=int,
        default=None,
        metavar="N",
        help="Ray workers, each holding one embedder (default: the CPUs Ray reports, at most 8)",
    )
    add_json_option(index)
    index.set_defaults(handler=run_index)

    retrieval = evals.add_parser(
        "retrieval",
        help="recall@1/3/5 and MRR of dense, BM25 and hybrid retrieval",
        description='Score retrieval on a JSONL file of {"question": ..., "gold": [paper id or '
        "unique title substring]} lines.",
    )
    retrieval.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="JSONL question file (default: the shipped data/eval/retrieval_dev.jsonl)",
    )
    retrieval.add_argument(
        "--misses", action="store_true", help="also list questions whose gold paper was not first"
    )
    add_index_options(retrieval)
    add_json_option(retrieval)
    retrieval.set_defaults(handler=run_eval_retrieval)


def _index(settings: Settings, corpus: Corpus, args: argparse.Namespace) -> VectorIndex:
    """`kgrag index`: the index brought up to date, its new passages embedded here or over Ray."""
    from rag.engine import build_embedder, build_index

    embedder = build_embedder(settings)
    ray_address = getattr(args, "ray", None)
    if ray_address is None:
        return _said(build_index(settings, corpus, embedder))
    from rag.embedding.ray_encoder import RayEncoder

    with RayEncoder(settings.embedder, embedder.dim, backend=settings.embedder_backend,
                    address=None if ray_address == "local" else ray_address,
                    workers=args.ray_workers) as encode:  # fmt: skip
        return _said(build_index(settings, corpus, embedder, encode=encode))


def _retriever(args: argparse.Namespace, corpus: Corpus, expand: bool = True) -> Retriever:
    """The hybrid retriever over `corpus` with the command's settings (see `_hybrid`)."""
    return _hybrid(settings_from(args), corpus, expand)


def _hybrid(settings: Settings, corpus: Corpus, expand: bool = True) -> Retriever:
    """The engine's hybrid retriever over `corpus` (`rag.engine.build_retriever`), its hits
    expanded along the graph unless `expand` is False."""
    from kg.graph import build_graph
    from rag.engine import build_retriever

    graph = build_graph(corpus) if expand else None
    retriever = build_retriever(settings, corpus, graph=graph)
    _said(retriever.index)
    return retriever


def _said(index: VectorIndex) -> VectorIndex:
    """`index`, after saying on stderr what was done to it unless it was reused as it was."""
    if index.state.action != "reused":
        print(
            f"kgrag: index {index.state.action} ({index.state.reason}; "
            f"{index.state.embedded} passages embedded) in {index.path}",
            file=sys.stderr,
        )
    return index


def run_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        print("kgrag: error: -k must be at least 1", file=sys.stderr)
        return 2
    from kg.corpus import load_corpus

    settings = settings_from(args)
    retriever = _hybrid(settings, load_corpus(settings.corpus), expand=not args.no_expand)
    hits = retriever.search(args.query, args.k)
    if args.json:
        print_json({"query": args.query, "results": [_hit_json(h) for h in hits]})
        return 0
    if not hits:
        print("no matching papers")
    for rank, hit in enumerate(hits, start=1):
        where = f", p. {hit.passage.page}" if hit.passage.page is not None else ""
        print(f"{rank}. {hit.title}  [{hit.paper_id}{where}]")
        print(f"   score {hit.score:.4f} via {'+'.join(hit.via)} — {hit.why}")
        print(f"   {hit.snippet}")
    return 0


def _hit_json(hit: Any) -> dict[str, Any]:
    return {
        "id": hit.paper_id,
        "title": hit.title,
        "score": round(float(hit.score), 6),
        "via": list(hit.via),
        "why": hit.why,
        "snippet": hit.snippet,
        "page": hit.passage.page,  # a PDF body passage's page, else null
        "section": hit.passage.section,
    }


def run_index(args: argparse.Namespace) -> int:
    from kg.corpus import load_corpus
    from rag.indexing.index import read_manifest

    settings = settings_from(args)
    corpus = load_corpus(settings.corpus)
    before = read_manifest(settings.index_dir, settings.vector_uri, settings.vector_token)
    index = _index(settings, corpus, args)
    manifest = index.manifest
    if args.json:
        reused = manifest.passages - index.state.embedded
        print_json(
            {
                "path": str(index.path),
                "action": index.state.action,
                "reason": index.state.reason,
                "embedded": index.state.embedded,
                "manifest": manifest.to_json(),
                # what `kgrag add` / `remove` cost: only passages with new text are embedded
                "passages": manifest.passages,
                "reused": reused,
                "removed": max(0, before.passages - reused) if before else 0,
                "store": manifest.store,
                "index_type": manifest.index_type,
                "passages_per_second": _rate(index.state.passages_per_second),
            }
        )
        return 0
    rate = index.state.passages_per_second
    speed = f", {index.state.embedded} embedded at {rate:.1f} passages/s" if rate else ""
    print(
        f"index {index.state.action}: {manifest.passages} passages of {len(corpus.papers)} papers, "
        f"{manifest.embedder} ({manifest.dim}-dim), {manifest.store} {manifest.index_type}, "
        f"in {index.path}{speed}"
    )
    return 0


def _rate(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def run_eval_retrieval(args: argparse.Namespace) -> int:
    from rag.evaluation.retrieval import (
        DEV_QUESTIONS,
        evaluate,
        format_table,
        load_questions,
        misses,
    )
    from rag.evaluation.retrieval import report_json as to_json

    corpus = corpus_from(args)
    questions = load_questions(args.questions or DEV_QUESTIONS, corpus)
    retriever = _retriever(args, corpus, expand=False)
    report = evaluate(retriever, questions)
    if args.json:
        print_json(to_json(report))
        return 0
    print(format_table(report))
    if args.misses:
        for system in ("dense", "bm25", "hybrid"):
            lines = misses(report, system)
            print(f"\n{system}: {len(lines)} questions with the gold paper not first")
            print("\n".join(lines))
    return 0
