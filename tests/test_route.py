"""Routing: structural questions to the graph, content to retrieval, mixed to both."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from rag.answering.graph_answer import answer_from_graph
from rag.answering.route import detect_language, route


@pytest.mark.parametrize(
    ("question", "intent", "named"),
    [
        ("Meta发表了哪些论文?", "papers", "Meta"),
        ("What did Google publish?", "papers", "Google"),
        ("谷歌发表了几篇论文?", "count", "Google"),
        ("How many papers did Google publish?", "count", "Google"),
        ("Which papers did Tsinghua University put out?", "papers", "Tsinghua University"),
        ("对齐方向有哪些论文?", "papers", "Alignment"),
        ("Which multimodal papers are in the list?", "papers", "Multimodal"),
    ],
)
def test_structural_questions_about_organisations_and_categories_go_to_the_graph(
    kg: KnowledgeGraph, question: str, intent: str, named: str
) -> None:
    result = route(kg, question)
    assert (result.kind, result.intent) == ("graph", intent)
    assert named in [n.label for n in result.organizations + result.categories]


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("2023年5月的论文", "2023-05", "2023-05"),
        ("papers between March and June 2023", "2023-03", "2023-06"),
        ("2023年3月到6月发表了哪些论文?", "2023-03", "2023-06"),
        ("Which papers came out in December 2023?", "2023-12", "2023-12"),
        ("2023年下半年有哪些论文?", "2023-07", "2023-12"),
        ("papers published since October 2023", "2023-10", None),
        ("papers published before July 2023", None, "2023-06"),
    ],
)
def test_month_and_date_range_questions_go_to_the_graph(
    kg: KnowledgeGraph, question: str, since: str | None, until: str | None
) -> None:
    result = route(kg, question)
    assert result.kind == "graph"
    assert result.dates is not None
    assert (result.dates.since, result.dates.until) == (since, until)


@pytest.mark.parametrize(
    ("question", "intent", "work"),
    [
        ("What is Code Llama based on?", "ancestors", "Code Llama"),
        ("Code Llama是基于什么模型的?", "ancestors", "Code Llama"),
        ("哪些工作基于LLaMA?", "descendants", "LLaMA"),
        ("Which works are built on Llama 2?", "descendants", "Llama 2"),
        ("What came after LLaMA?", "descendants", "LLaMA"),
        ("What is the lineage of llama2?", "lineage", "Llama 2"),
    ],
)
def test_lineage_direction_follows_where_the_work_is_named(
    kg: KnowledgeGraph, question: str, intent: str, work: str
) -> None:
    result = route(kg, question)
    assert (result.kind, result.intent) == ("graph", intent)
    assert result.works[0].label == work


def test_path_between_two_works(kg: KnowledgeGraph) -> None:
    result = route(kg, "What is the path from LLaMA to Code Llama?")
    assert (result.kind, result.intent) == ("graph", "path")
    assert [w.label for w in result.works] == ["LLaMA", "Code Llama"]


def test_earliest_and_latest_with_a_category_and_year(kg: KnowledgeGraph) -> None:
    first = route(kg, "the first agent paper of 2023")
    assert (first.kind, first.intent) == ("graph", "earliest")
    assert first.dates is not None and first.dates.since == "2023-01"
    assert route(kg, "最新的端侧论文是哪篇?").intent == "latest"


def test_a_filtered_question_about_an_unknown_topic_is_hybrid(kg: KnowledgeGraph) -> None:
    result = route(kg, "What did Meta publish about code?")
    assert result.kind == "hybrid"
    assert result.topic == "code"
    assert [o.label for o in result.organizations] == ["Meta"]


def test_questions_about_a_paper_s_content_go_to_retrieval(kg: KnowledgeGraph) -> None:
    for question in ("How does Medusa speed up LLM inference?", "GPTQ是怎样量化模型参数的?"):
        assert route(kg, question).kind == "rag"


@pytest.mark.parametrize(
    "question",
    [
        "How many tokens was LLaMA trained on?",
        "How much data was Llama 2 pretrained on?",
        "LLaMA 训练用了多少个 token?",
        "Code Llama 基于 Llama 2 训练了多少 token?",
        "How many GPU hours did training Llama 2 from LLaMA take?",
    ],
)
def test_a_quantity_asked_about_a_work_is_not_a_lineage_question(
    kg: KnowledgeGraph, question: str
) -> None:
    assert route(kg, question).kind == "rag"


@pytest.mark.parametrize(
    "question",
    [
        "Where does the training data of Code Llama come from?",
        "What are the examples in ToolLLM's benchmark derived from?",
        "Medusa 的解码头是基于什么训练的?",
    ],
)
def test_a_part_of_the_work_as_subject_is_not_a_lineage_question(
    kg: KnowledgeGraph, question: str
) -> None:
    assert route(kg, question).intent not in ("ancestors", "descendants")


@pytest.mark.parametrize(
    ("question", "direction"),
    [
        ("What is Code Llama's base model?", "ancestors"),
        ("Which model is Llama 2's successor built on?", "ancestors"),
        ("Which models were fine-tuned from LLaMA?", "descendants"),
    ],
)
def test_the_work_or_its_lineage_noun_as_subject_stays_a_lineage_question(
    kg: KnowledgeGraph, question: str, direction: str
) -> None:
    assert route(kg, question).intent == direction


def test_a_paper_with_no_parent_in_the_corpus_is_asked_of_its_abstract(kg: KnowledgeGraph) -> None:
    """Its base may be outside the corpus (REINFORCE, a non-corpus LLM): only the abstract says."""
    for question in ("What is Gorilla built on?", "Gorilla 基于哪个模型?"):
        assert answer_from_graph(kg, route(kg, question)) is None, question
    for question in ("Which RL algorithm does ReMax build on?", "Qwen-VL 基于哪个语言模型?"):
        assert answer_from_graph(kg, route(kg, question)) is not None, (
            question
        )  # REINFORCE, Qwen-LM


@pytest.mark.parametrize(
    "question",
    [
        "How many multimodal benchmarks does Gemini set a new state of the art on?",
        "Mixtral 是 2022 年发布的吗?每个标记能用多少参数?",
        "Google 的 Gemini 在多少项基准上领先?",
    ],
)
def test_a_quantity_of_a_named_work_with_a_filter_is_not_a_paper_count(
    kg: KnowledgeGraph, question: str
) -> None:
    assert route(kg, question).intent != "count"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What attention method does FlashAttention-2 use?", "rag"),
        ("Which decoding method does Medusa rely on?", "rag"),
        ("Which techniques does Medusa use?", "graph"),
        ("What key methods does GPTQ use?", "graph"),
    ],
)
def test_a_qualified_method_asks_the_abstract_a_bare_one_the_graph(
    kg: KnowledgeGraph, question: str, kind: str
) -> None:
    assert route(kg, question).kind == kind


@pytest.mark.parametrize(
    "question",
    [
        "投机解码相比标准实现加速了多少?",
        "How many times faster is speculative decoding than standard decoding?",
        "How much does quantization reduce memory?",
        "量化把显存降低了多少?",
    ],
)
def test_a_figure_asked_about_a_technique_is_not_a_paper_count(
    kg: KnowledgeGraph, question: str
) -> None:
    assert route(kg, question).intent != "count"


@pytest.mark.parametrize(
    "question",
    [
        "How many papers use speculative decoding?",
        "How many were published by Google?",
        "使用投机解码的论文有多少篇?",
        "Meta 发表了几篇论文?",
    ],
)
def test_counting_papers_with_a_filter_stays_a_count(kg: KnowledgeGraph, question: str) -> None:
    assert route(kg, question).intent == "count"


@pytest.mark.parametrize(
    "question",
    [
        "How many models are based on LLaMA?",
        "How many descendants does Llama 2 have?",
        "有多少模型基于 LLaMA?",
        "Llama 2 有几个后续模型?",
    ],
)
def test_counting_works_in_a_lineage_stays_a_lineage_question(
    kg: KnowledgeGraph, question: str
) -> None:
    assert route(kg, question).kind == "graph"


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("What is Mamba?", "Mamba"),
        ("介绍一下QLoRA", "QLoRA"),
        ("What is new in Llama 3?", "Llama 3"),
    ],
)
def test_names_the_corpus_holds_no_paper_for_are_flagged(
    kg: KnowledgeGraph, question: str, name: str
) -> None:
    """Unknown to the graph, or known only as a reference work: either way not a corpus paper."""
    result = route(kg, question)
    assert result.kind == "rag"
    outside = list(result.unknown_names) + [w.label for w in result.works if w.kind == "work"]
    assert any(name.casefold() in o.casefold() for o in outside), outside
    assert result.names_outside_corpus


def test_a_version_the_corpus_holds_is_not_flagged(kg: KnowledgeGraph) -> None:
    result = route(kg, "What is new in Llama 2?")
    assert result.unknown_names == ()
    assert not result.names_outside_corpus


def test_language_is_detected_from_the_question() -> None:
    assert detect_language("Meta发表了哪些论文") == "zh"
    assert detect_language("What did Meta publish?") == "en"


def test_a_model_size_is_no_name_outside_the_corpus(kg: KnowledgeGraph) -> None:
    """The B of "13B" once counted as an unknown name and refused an in-corpus question."""
    question = "How much data does the final 13B checkpoint of the improved LLaVA baseline use?"
    assert route(kg, question).unknown_names == ()


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("What can Mistral Large do?", "Mistral Large"),
        ("Mistral Large 能做什么?", "Mistral Large"),
        ("How fast is Meta Chameleon?", "Meta Chameleon"),
        ("What is Alibaba Qwen3 trained on?", "Alibaba Qwen3"),
    ],
)
def test_a_model_named_after_its_organisation_is_a_work_not_the_organisation(
    kg: KnowledgeGraph, question: str, name: str
) -> None:
    """Read as the organisation, "Mistral Large" was answered with Mistral AI's papers."""
    result = route(kg, question)
    assert result.organizations == () and result.intent != "papers"
    assert name in result.unknown_names and result.names_outside_corpus


@pytest.mark.parametrize(
    ("question", "organization"),
    [
        ("Which papers did Princeton NLP publish?", "Princeton University"),
        ("Is Meta Llama 2 open?", "Meta"),
        ("What did Mistral AI release?", "Mistral AI"),
        ("Google 和 Meta 发表了哪些论文?", "Google"),
    ],
)
def test_an_organisation_followed_by_its_group_or_a_known_work_stays_the_organisation(
    kg: KnowledgeGraph, question: str, organization: str
) -> None:
    assert organization in [o.label for o in route(kg, question).organizations]
