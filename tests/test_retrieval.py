"""Hybrid retrieval over the shipped corpus with the real default embedder: Chinese and English
questions find the right paper, the paper without an abstract is found, and graph-expanded
results say why they were added."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from rag.retrieval.retrieve import Hit, RetrievalConfig, Retriever, rrf

LOOKAHEAD = "break-the-sequential-dependency-of-llm-inference-using"


def top_ids(hits: list[Hit], n: int = 1) -> list[str]:
    return [h.paper_id for h in hits[:n]]


def test_a_chinese_question_finds_the_paper(retriever: Retriever) -> None:
    assert top_ids(retriever.search("哪篇论文比较了对每一步推理给反馈和只看最终答案的效果?")) == [
        "lets-verify-step-by-step"
    ]


def test_an_english_question_finds_a_paper_whose_facts_are_only_in_chinese(
    retriever: Retriever,
) -> None:
    hits = retriever.search("keeping model weights in flash memory when DRAM is too small")
    assert top_ids(hits) == ["llm-in-a-flash"]


def test_the_paper_without_an_abstract_is_found_by_its_title_and_influence(
    retriever: Retriever,
) -> None:
    assert top_ids(retriever.search("lookahead decoding with Jacobi iteration")) == [LOOKAHEAD]
    assert LOOKAHEAD in top_ids(retriever.search("用 n-gram 和雅可比迭代加速推理"), 3)


def test_hits_carry_their_passage_snippet_and_provenance(retriever: Retriever) -> None:
    found = retriever.retrieve("GPTQ 量化", k=5)
    best = found.hits[0]
    assert best.paper_id == "gptq" and best.passage.paper_id == "gptq"
    assert best.snippet and len(best.snippet) <= 160
    assert set(best.via) <= {"dense", "bm25", "graph"} and best.via
    assert 0 < found.top_similarity <= 1 and best.similarity == found.top_similarity
    assert found.passages[0].passage.paper_id == "gptq"
    assert [h.score for h in found.direct] == sorted((h.score for h in found.direct), reverse=True)


def test_graph_expanded_results_rank_below_direct_hits_and_say_why(retriever: Retriever) -> None:
    hits = retriever.search("Code Llama 代码大模型", k=2)
    assert hits[0].paper_id == "code-llama"
    expanded = [h for h in hits if h.via == ("graph",)]
    assert expanded, "lineage neighbours of Code Llama are added"
    assert min(h.score for h in hits if h.via != ("graph",)) > max(h.score for h in expanded)
    assert all(h.why for h in expanded)
    whys = {h.paper_id: h.why for h in hits}
    assert any("Code Llama" in why for pid, why in whys.items() if pid != "code-llama")


def test_expansion_can_be_turned_off(kg: KnowledgeGraph, retriever: Retriever) -> None:
    plain = Retriever(None, retriever.index, retriever.embedder)
    hits = plain.search("Code Llama 代码大模型", k=2)
    assert len(hits) == 2 and all("graph" not in h.via for h in hits)


def test_rankings_cover_every_system(retriever: Retriever) -> None:
    rankings = retriever.rankings("Medusa 多个解码头")
    assert set(rankings) == {"dense", "bm25", "hybrid"}
    assert rankings["hybrid"][0] == "medusa"


def test_reciprocal_rank_fusion_favours_items_ranked_high_by_both() -> None:
    a = rrf(["x", "y", "z"], 60)
    b = rrf(["y", "x", "w"], 60)
    fused = {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}
    assert sorted(fused, key=lambda k: -fused[k])[:2] in (["x", "y"], ["y", "x"])
    assert fused["z"] < fused["x"] and fused["w"] < fused["y"]
    assert a["x"] == 1 / 61


def test_a_keyword_only_match_is_fused_in_below_a_clear_dense_winner(
    kg: KnowledgeGraph, retriever: Retriever
) -> None:
    # A rare exact term (an API hub named only in Gorilla's influence note) must lift Gorilla.
    hits = retriever.search("TorchHub TensorHub API calls dataset", k=3)
    assert hits[0].paper_id == "gorilla" and "bm25" in hits[0].via


def test_config_weights_change_the_fusion(retriever: Retriever) -> None:
    bm25_only = Retriever(
        None, retriever.index, retriever.embedder, RetrievalConfig(dense_weight=0.0)
    )
    assert bm25_only.rankings("APIBench")["hybrid"][0] == "gorilla"


def test_expansion_labels_neighbours_and_ranks_new_ones_last(
    kg: KnowledgeGraph, hashing_embedder, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from rag.indexing.index import open_index

    index = open_index(kg.corpus, hashing_embedder, tmp_path, progress=False)
    plain = Retriever(None, index, hashing_embedder).search("GPTQ quantization", k=3)
    second = plain[1].paper_id
    outside = next(p.id for p in kg.corpus.papers if p.id not in {h.paper_id for h in plain})

    def neighbours(_kg: KnowledgeGraph, paper_id: str) -> list[tuple[str, str]]:
        if paper_id != plain[0].paper_id:
            return []
        return [(second, "child of the best hit"), (outside, "sibling of the best hit")]

    hits = Retriever(kg, index, hashing_embedder, neighbours=neighbours).search(
        "GPTQ quantization", 3
    )
    assert [h.paper_id for h in hits[:3]] == [h.paper_id for h in plain]
    assert "graph" in hits[1].via and hits[1].why.startswith("child of the best hit")
    assert hits[3].paper_id == outside and hits[3].via == ("graph",)
    assert hits[3].why == "sibling of the best hit" and hits[3].score < hits[2].score
