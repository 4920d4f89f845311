"""PDF papers in retrieval and answers: the index embeds only the new passages, a body fact is
found on its page (dev questions of data/eval/pdf_body_dev.jsonl, `tune` part), and answers
cite the page: `ask --json` sources carry `page` and `section`, citations `page`, the plain CLI
prints `[P1, p. 4]`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from kg.corpus import Corpus, default_corpus_path, load_corpus
from kg.errors import KgragError
from kg.graph import KnowledgeGraph, build_graph
from kg.library import add_files
from rag.answering.pipeline import Engine, stream
from rag.answering.records import Answer, Citation, Source
from rag.answering.route import route
from rag.answering.sources import contexts_for
from rag.checking.cite import check_answer
from rag.checking.support import SourceText, SupportChecker
from rag.evaluation.pdf_answers import evaluate as evaluate_pdf
from rag.evaluation.pdf_answers import load_questions as load_pdf_questions
from rag.evaluation.pdf_answers import papers_by_pdf
from rag.evaluation.pdf_answers import score as score_pdf
from rag.evaluation.pdf_answers import summary as pdf_summary
from rag.indexing.index import VectorIndex, open_index
from rag.llm.generator import Message
from rag.passages import paper_passages
from rag.retrieval.retrieve import Retriever
from ui.commands.ask import print_checked

PDFS = Path(__file__).parent / "fixtures" / "pdf"
ADDED = ("quillwort.pdf", "qingwu.pdf")  # one English, one Chinese paper: cheap to embed
DEV = [json.loads(line) for line in (Path(__file__).parents[1] / "data/eval/pdf_body_dev.jsonl")
       .read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
QUESTIONS = [q for q in DEV if q["pdf"] in ADDED and q["part"] == "tune"]


@pytest.fixture(scope="module")
def pdf_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """The shipped list with two fixture PDFs added, in a temporary data folder."""
    patch = pytest.MonkeyPatch()
    patch.setenv("KGRAG_DATA_DIR", str(tmp_path_factory.mktemp("pdf-data")))
    patch.delenv("KGRAG_CORPUS", raising=False)
    add_files([PDFS / name for name in ADDED])
    yield load_corpus(default_corpus_path())
    patch.undo()


@pytest.fixture(scope="module")
def pdf_index(
    pdf_corpus: Corpus, index: VectorIndex, embedder: Any, tmp_path_factory: pytest.TempPathFactory
) -> VectorIndex:
    """The shipped corpus's session index, copied, then brought up to date with the PDFs."""
    folder = tmp_path_factory.mktemp("pdf-index") / "index"
    shutil.copytree(Path(index.path), folder)
    return open_index(pdf_corpus, embedder, folder, progress=False)


@pytest.fixture(scope="module")
def pdf_kg(pdf_corpus: Corpus) -> KnowledgeGraph:
    return build_graph(pdf_corpus)


@pytest.fixture(scope="module")
def pdf_retriever(pdf_kg: KnowledgeGraph, pdf_index: VectorIndex, embedder: Any) -> Retriever:
    return Retriever(pdf_kg, pdf_index, embedder)


def _paper_of(corpus: Corpus, pdf: str) -> str:
    return next(p.id for p in corpus.papers if Path(p.pdf_path).name == pdf)


def test_a_chinese_paper_is_named_by_its_title_before_the_colon_and_by_its_pinyin(
    pdf_corpus: Corpus, pdf_kg: KnowledgeGraph
) -> None:
    paper = next(p for p in pdf_corpus.papers if Path(p.pdf_path).name == "qingwu.pdf")
    assert "：" in paper.title and paper.short_name == "青梧"
    asked = route(pdf_kg, "How many hours of labelled data does Qingwu use for fine-tuning?")
    assert [w.label for w in asked.works] == ["青梧"] and not asked.unknown_names


def test_a_figure_of_a_body_passage_is_checked_against_that_passage(
    pdf_corpus: Corpus, pdf_retriever: Retriever, embedder: Any
) -> None:
    """The abstract does not hold the block size; the body passage shown does."""
    paper = next(p for p in pdf_corpus.papers if Path(p.pdf_path).name == "quillwort.pdf")
    passage = "In all our experiments the block size is b = 96 tokens."
    assert "96" not in paper.abstract
    source = SourceText.from_paper(1, paper, passage)
    checked = check_answer("Quillwort routes blocks of 96 tokens. [P1]", [source],
                           SupportChecker(embedder), "What block size does Quillwort use?")  # fmt: skip
    assert checked.text and checked.cited == (1,)
    wrong = check_answer("Quillwort routes blocks of 69 tokens. [P1]", [source],
                         SupportChecker(embedder), "What block size does Quillwort use?")  # fmt: skip
    assert not wrong.text


def test_a_fact_of_a_pdf_papers_abstract_is_cited_to_the_abstracts_page(
    pdf_corpus: Corpus, pdf_kg: KnowledgeGraph, pdf_retriever: Retriever, embedder: Any
) -> None:
    paper = next(p for p in pdf_corpus.papers if Path(p.pdf_path).name == "quillwort.pdf")
    document = pdf_corpus.document(paper.id)
    assert document is not None
    on_page = {pr.page for _, pr in document.paragraphs(frozenset({"abstract"}))}
    engine = Engine(pdf_kg, pdf_retriever, embedder)
    asked = route(pdf_kg, "How much faster than dense attention is Quillwort at 128k tokens?")
    contexts, _, _ = contexts_for(engine, asked)
    top = contexts[0]
    assert top.paper.id == paper.id and "3.4" in top.passage
    stating = [page for text, page in top.sentences if "3.4" in text and text in paper.abstract]
    assert stating and stating[0] in on_page


def test_the_index_embeds_only_the_pdf_papers_passages(
    pdf_corpus: Corpus, pdf_index: VectorIndex, index: VectorIndex
) -> None:
    new = [p for pid, doc in pdf_corpus.documents
           for p in paper_passages(pdf_corpus.by_id()[pid], document=doc)]  # fmt: skip
    assert pdf_index.state.action == "updated" and pdf_index.state.embedded == len(new)
    assert len(pdf_index.passages) == len(index.passages) + len(new)
    assert sum(p.page is not None for p in new) > 40


def test_a_body_fact_is_found_on_its_page(pdf_corpus: Corpus, pdf_retriever: Retriever) -> None:
    assert len(QUESTIONS) >= 10
    missed = []
    for q in QUESTIONS:
        paper_id = _paper_of(pdf_corpus, q["pdf"])
        top = [h.passage for h in pdf_retriever.retrieve(q["question"], 8).passages[:5]]
        if not any(p.paper_id == paper_id and p.page == q["page"]
                   and any(e in p.body for e in q["expect_any"]) for p in top):  # fmt: skip
            missed.append(q["id"])
    # measured: 15 of 17 (the two misses are English questions on the Chinese paper)
    assert len(missed) <= len(QUESTIONS) // 5, missed


class _SaysNotStated:
    """A generator that says the sources do not state it: the pipeline then quotes and cites
    the best evidence sentence itself (no model needed to see where citations point)."""

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        yield "The sources do not state this."


def test_ask_json_sources_and_citations_carry_the_page(
    pdf_corpus: Corpus, pdf_kg: KnowledgeGraph, pdf_retriever: Retriever, embedder: Any
) -> None:
    engine = Engine(pdf_kg, pdf_retriever, embedder, _SaysNotStated())
    for qid in ("quillwort-01", "qingwu-01"):
        question = next(q for q in QUESTIONS if q["id"] == qid)
        answer = [i for i in stream(question["question"], engine) if isinstance(i, Answer)][0]
        shown = answer.to_json()
        assert all(set(s) >= {"page", "section"} for s in shown["sources"])
        first, paper_id = shown["sources"][0], _paper_of(pdf_corpus, question["pdf"])
        assert first["id"] == paper_id and first["page"] and first["section"]
        (citation,) = shown["citations"]
        assert citation["id"] == paper_id and citation["page"] == first["page"]
        # the cited page is the page the quoted sentence is on
        quote = re.search(r"“(.+?)”", shown["answer"])
        document = pdf_corpus.document(paper_id)
        assert quote and document is not None
        page_text = "".join(document.page(citation["page"]).text.split())
        assert "".join(quote.group(1).split()) in page_text
        # and the citation names that sentence: the one the app's card marks on the page
        assert "".join(quote.group(1).split()) in "".join(answer.citations[0].sentence.split())


def test_a_shipped_paper_answer_has_null_pages(
    pdf_corpus: Corpus, pdf_kg: KnowledgeGraph, pdf_retriever: Retriever, embedder: Any
) -> None:
    engine = Engine(pdf_kg, pdf_retriever, embedder, _SaysNotStated())
    question = "What does FlashAttention-2 improve over FlashAttention?"
    answer = [item for item in stream(question, engine) if isinstance(item, Answer)][0]
    shown = answer.to_json()
    pdf_ids = {pid for pid, _ in pdf_corpus.documents}
    assert shown["sources"] and shown["sources"][0]["id"] not in pdf_ids
    assert all(s["page"] is None and s["section"] is None
               for s in shown["sources"] if s["id"] not in pdf_ids)  # fmt: skip
    assert all(c["page"] is None for c in shown["citations"] if c["id"] not in pdf_ids)


def test_plain_cli_prints_the_page_with_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    answer = Answer("q", "Blocks of 96 tokens [P1].", "rag", (Citation("quillwort", "Q", 1),),
                    (Source("quillwort", "Quillwort", "…", page=1, section="3.1 Blocks"),
                     Source("llama-2", "Llama 2", "…")))  # fmt: skip
    print_checked(answer, repeat=False)
    out = capsys.readouterr().out
    assert "*[P1, p. 1] Quillwort (quillwort)" in out and " [P2] Llama 2 (llama-2)" in out


def test_the_real_model_answers_a_body_fact_citing_its_page(
    pdf_corpus: Corpus, pdf_kg: KnowledgeGraph, pdf_retriever: Retriever, embedder: Any,
    generator: Any,
) -> None:  # fmt: skip
    question = next(q for q in QUESTIONS if q["id"] == "qingwu-01")
    engine = Engine(pdf_kg, pdf_retriever, embedder, generator)
    answer = [i for i in stream(question["question"], engine) if isinstance(i, Answer)][0]
    shown = answer.to_json()
    paper_id = _paper_of(pdf_corpus, question["pdf"])
    assert shown["route"] == "rag" and shown["sources"][0]["id"] == paper_id
    assert any(e in shown["answer"] for e in question["expect_any"]), shown["answer"]
    cited = [c for c in shown["citations"] if c["id"] == paper_id]
    assert cited and cited[0]["page"] == shown["sources"][0]["page"] == question["page"]


def test_eval_pdf_counts_the_fact_and_the_page_of_the_cited_paper(
    pdf_corpus: Corpus, pdf_kg: KnowledgeGraph, pdf_retriever: Retriever, embedder: Any
) -> None:
    questions = [q for q in load_pdf_questions() if q.id == "qingwu-01"]
    engine = Engine(pdf_kg, pdf_retriever, embedder, _SaysNotStated())
    (result,) = evaluate_pdf(questions, engine, progress=False)
    # the quoted evidence sentence states the fact, on its page
    assert result.fact and result.page_right and result.extractive, result.to_json()
    (row,) = [s for s in pdf_summary([result]) if s["group"] == "all"]
    assert row["n"] == row["fact_and_page"] == row["extractive"] == 1

    q = next(q for q in load_pdf_questions() if q.id == "quillwort-01")
    wrong_page = Answer(q.question, f"{q.expect_any[0]} [P1]", "rag",
                        (Citation("quillwort", "Quillwort", page=q.page + 1),))  # fmt: skip
    no_fact = Answer(q.question, "Blocks of 69 tokens. [P1]", "rag",
                     (Citation("quillwort", "Quillwort", page=q.page),))  # fmt: skip
    assert score_pdf(q, wrong_page, "quillwort").fact
    assert not score_pdf(q, wrong_page, "quillwort").page_right
    assert score_pdf(q, no_fact, "quillwort").page_right
    assert not score_pdf(q, no_fact, "quillwort").fact
    assert not score_pdf(q, no_fact, "another-paper").cited


def test_eval_pdf_names_the_pdfs_the_library_lacks(pdf_corpus: Corpus) -> None:
    questions = load_pdf_questions()
    assert len(questions) >= 40 and {q.part for q in questions} == {"tune", "report"}
    with pytest.raises(KgragError, match="tamarack.pdf"):
        papers_by_pdf(pdf_corpus, questions)


def test_search_json_gives_a_body_passages_page_and_section(
    pdf_corpus: Corpus, pdf_index: VectorIndex
) -> None:
    question = next(q for q in QUESTIONS if q["pdf"] == "quillwort.pdf")
    found = subprocess.run([sys.executable, "-m", "ui.cli", "search", question["question"], "-k", "3",
                            "--json", "--no-expand", "--index-dir", str(pdf_index.path)],
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)["results"]
    paper = _paper_of(pdf_corpus, "quillwort.pdf")
    top = next(r for r in rows if r["id"] == paper)
    assert top["page"] == question["page"] and top["section"]
    assert any(fact in top["snippet"] for fact in question["expect_any"]), top["snippet"]


@pytest.mark.parametrize(
    ("claim", "verdict", "fact"),
    [
        ("Training Quillwort-7B took 19 days on 64 Tessera T2 accelerators.", "supported", "19 days"),
        ("Training Quillwort-7B took 23 days on 64 Tessera T2 accelerators.", "contradicted",
         "19 days"),
        ("Quillwort 的分词器词表有 65,536 个条目。", "supported", "65,536"),
    ],
)  # fmt: skip
def test_verify_checks_a_claim_against_the_body_and_gives_its_page(
    pdf_kg: KnowledgeGraph, embedder: Any, claim: str, verdict: str, fact: str
) -> None:
    """`kgrag verify` reads a PDF paper's body, not only its abstract: the verdict rests on the
    body sentence stating the fact, and names its page."""
    from rag.checking.library import check_claim

    found = check_claim(pdf_kg, claim, embedder, paper="Quillwort")
    assert found.verdict == verdict, found.reasons
    assert found.evidence is not None and fact in found.evidence
    page = next(q["page"] for q in DEV if fact in q["expect_any"] or fact.replace(",", "") in
                q["expect_any"])  # fmt: skip
    assert found.page == page


def test_plain_verify_prints_the_evidence_page(pdf_corpus: Corpus) -> None:
    claim = "Training Quillwort-7B took 23 days on 64 Tessera T2 accelerators."
    done = subprocess.run([sys.executable, "-m", "ui.cli", "verify", claim, "--paper", "Quillwort"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("contradicted: ")
    assert "evidence (p. 2): Training took 19 days" in done.stdout
