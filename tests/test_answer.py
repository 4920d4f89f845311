"""Answers: exact graph answers, refusals without the LLM, checked retrieval answers."""

from __future__ import annotations

from collections.abc import Callable

from kg import queries
from kg.graph import KnowledgeGraph
from rag.answering.pipeline import Answer, Engine, ask, stream
from rag.checking.cite import cited_numbers


def _cited_ids(answer: Answer) -> list[str]:
    return [c.id for c in answer.citations]


def test_graph_answer_lists_and_cites_every_paper_of_an_organisation(
    llm_free_engine: Engine, kg: KnowledgeGraph
) -> None:
    answer = ask("Meta发表了哪些论文?", llm_free_engine)
    expected = [p.id for p in queries.papers_by(kg, org="Meta")]
    assert answer.route == "graph"
    assert _cited_ids(answer) == expected
    assert [s.id for s in answer.sources] == expected
    assert sorted(set(cited_numbers(answer.text))) == list(range(1, len(expected) + 1))


def test_count_answers_state_the_number_in_the_question_s_language(
    llm_free_engine: Engine, kg: KnowledgeGraph
) -> None:
    count = len(queries.papers_by(kg, org="Google", include_parts=True))
    chinese = ask("谷歌发表了几篇论文?", llm_free_engine)
    english = ask("How many papers did Google publish?", llm_free_engine)
    assert f"共 {count} 篇" in chinese.text
    assert english.text.startswith(f"{count} paper")
    assert len(chinese.citations) == len(english.citations) == count


def test_date_range_answer_holds_exactly_the_papers_in_range(
    llm_free_engine: Engine, kg: KnowledgeGraph
) -> None:
    answer = ask("Which papers were published between March and June 2023?", llm_free_engine)
    expected = {p.id for p in queries.papers_by(kg, since="2023-03", until="2023-06")}
    assert answer.route == "graph"
    assert set(_cited_ids(answer)) == expected


def test_lineage_answer_cites_the_ancestors_and_the_evidence(llm_free_engine: Engine) -> None:
    answer = ask("What is Code Llama based on?", llm_free_engine)
    assert answer.route == "graph"
    assert {"llama-2", "llama"} <= set(_cited_ids(answer))
    assert "基于 Llama 2" in answer.text  # the sentence the edge was derived from


def test_out_of_domain_question_is_refused_without_calling_the_llm(llm_free_engine: Engine) -> None:
    answer = ask("Who won the 2022 FIFA World Cup?", llm_free_engine)
    assert answer.route == "none"
    assert answer.citations == ()
    assert "does not cover" in answer.text


def test_near_miss_paper_not_in_the_corpus_is_refused_in_chinese(llm_free_engine: Engine) -> None:
    answer = ask("QLoRA是如何用4比特量化来微调大模型的?", llm_free_engine)
    assert answer.route == "none"
    assert answer.citations == ()
    assert "论文库" in answer.text


def test_follow_up_question_reads_the_previous_subject(llm_free_engine: Engine) -> None:
    answer = ask("And what came after it?", llm_free_engine, history=["Tell me about Llama 2."])
    assert answer.route == "graph"
    assert "code-llama" in _cited_ids(answer)


def test_invented_citation_is_removed_and_counted(
    scripted_engine: Callable[[str], Engine],
) -> None:
    engine = scripted_engine(
        "Medusa 训练多个 LM head 来预测不同位置的 token,实现推理加速 [P1][P9]。"
    )
    answer = ask("How does Medusa speed up LLM inference?", engine)
    assert answer.removed_citations == 1
    assert "[P9]" not in answer.text
    assert "medusa" in _cited_ids(answer)


def test_unverifiable_answer_falls_back_to_cited_extracts(
    scripted_engine: Callable[[str], Engine],
) -> None:
    engine = scripted_engine("Medusa was released by Meta in 2019 [P1].")
    answer = ask("How does Medusa speed up LLM inference?", engine)
    assert answer.extractive
    assert answer.unsupported_sentences == 1
    assert answer.citations and answer.citations[0].id == "medusa"
    assert "Meta" not in answer.text


def test_real_model_answer_streams_then_ends_with_a_checked_answer(engine: Engine) -> None:
    items = list(stream("How does Medusa speed up LLM inference?", engine))
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 2
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert answer.route == "rag"
    assert answer.citations, answer.text
    assert {c.id for c in answer.citations} <= {s.id for s in answer.sources}
    assert all(1 <= n <= len(answer.sources) for n in cited_numbers(answer.text))
    assert "medusa" in _cited_ids(answer)


def test_sources_say_how_retrieval_found_them(scripted_engine: Callable[[str], Engine]) -> None:
    engine = scripted_engine("Medusa 训练多个 LM head 来预测不同位置的 token,实现推理加速 [P1]。")
    answer = ask("How does Medusa speed up LLM inference?", engine)
    medusa = next(s for s in answer.sources if s.id == "medusa")
    assert set(medusa.via) <= {"dense", "bm25"} and medusa.via
    assert medusa.why


def test_graph_answer_sources_are_labelled_as_graph(llm_free_engine: Engine) -> None:
    answer = ask("What is Code Llama based on?", llm_free_engine)
    assert answer.sources and all(s.via == ("graph",) for s in answer.sources)
