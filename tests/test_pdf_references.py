"""Reference lists split into entries in every common style, each entry's identifiers and title
read, and the citation markers of body sentences mapped to the entries they name."""

from __future__ import annotations

import re

import pytest

from kg.pdf import citing_sentences, find_markers, parse_reference, split_text_entries
from kg.pdf.references import resolve_markers
from kg.tables import fold
from tests.fixtures.pdf import PAPERS, gold, paper


def _key(title: str | None) -> str:
    return re.sub(r"\W+", "", (title or "").casefold())


@pytest.mark.parametrize("name", PAPERS)
def test_the_reference_list_splits_into_its_entries(name: str) -> None:
    expected = gold("pdf_references_dev.json")["references"][name]
    found = paper(name).references
    assert len(found) == len(expected)
    for entry, want in zip(found, expected, strict=True):
        assert entry.number == want["number"], entry.text
        assert entry.arxiv_id == want["arxiv_id"] and entry.doi == want["doi"], entry.text
        assert entry.year == want["year"], entry.text
        assert fold(entry.first_author or "") == fold(want["first_author"]), entry.text
        assert _key(entry.title_guess) == _key(want["title"]), entry.text
        assert entry.page >= 1 and entry.text in paper(name).page(entry.page).text


def test_the_references_section_holds_one_paragraph_per_entry() -> None:
    document = paper("halyard.pdf")  # author-year with a hanging indent
    section = next(s for s in document.sections if s.kind == "references")
    assert [p.text for p in section.paragraphs] == [r.text for r in document.references]
    assert [p.page for p in section.paragraphs] == [2, 2, 2, 2, 3]


def test_plain_text_reference_lists_split_in_each_style() -> None:
    numbered = "[1] A. Author. First title. In Proc. X, 2020.\n[2] B. Author and C. Author.\n" \
               "Second title, continued. arXiv:2307.09288, 2023.\n[3] D. Author. Third. 2021."  # fmt: skip
    assert [e[:3] for e in split_text_entries(numbered)] == ["[1]", "[2]", "[3]"]
    assert "continued. arXiv:2307.09288" in split_text_entries(numbered)[1]
    dotted = "1. Panupong Pasupat and Percy Liang. Compositional parsing. 2015.\n" \
             "2. Tom Brown. Few-shot learners. 2020.\n2020. A year is not a label."  # fmt: skip
    assert len(split_text_entries(dotted)) == 2
    author_year = ("Smith, J., and Doe, A. 2023. A first title. In Proc. Y. "
                   "Lee, K. 2022a. A second title. Journal Z, 4(2):1-9. "
                   "Lee, K. 2022b. A third title. arXiv:2201.00001.")  # fmt: skip
    entries = split_text_entries(author_year)
    assert [parse_reference(e).first_author for e in entries] == ["Smith", "Lee", "Lee"]


@pytest.mark.parametrize(("text", "title", "first", "year"), [
    ("Smith, J., and Doe, A. 2023. Block routing at scale. In Proceedings of ACL.",
     "Block routing at scale", "Smith", 2023),
    ("Smith, J. and Doe, A. (2023). Block routing at scale. Journal of X, 3:1-9.",
     "Block routing at scale", "Smith", 2023),
    ('[4] E. J. Hu, Y. Shen, and W. Chen, "LoRA: Low-rank adaptation of large language models," '
     "in Proc. ICLR, 2022.", "LoRA: Low-rank adaptation of large language models", "Hu", 2022),
    ("[3] HALDORSEN O, ZHOU M L, et al. Brindle: Sparse adapters[J]. Journal of Invented Models, "
     "2024, 3(9): 1-3.", "Brindle: Sparse adapters", "Haldorsen", 2024),
    ("[4] 王建国, 李明. 汉语方言语音数据库建设综述[J]. 中文信息学报, 2019, 33(4): 1-10.",
     "汉语方言语音数据库建设综述", "王建国", 2019),
    ("Ashish Vaswani, Noam Shazeer, and Illia Polosukhin. 2017. Attention is all you need. In "
     "Advances in Neural Information Processing Systems.", "Attention is all you need", "Vaswani",
     2017),
])  # fmt: skip
def test_an_entry_is_read_in_each_style(text: str, title: str, first: str, year: int) -> None:
    entry = parse_reference(text)
    assert (entry.title_guess, entry.first_author, entry.year) == (title, first, year)


def test_identifiers_are_read_in_every_spelling() -> None:
    assert (
        parse_reference("X. Title. arXiv preprint arXiv:2307.09288v2, 2023.").arxiv_id
        == "2307.09288"
    )
    assert parse_reference("X. Title. https://arxiv.org/abs/2205.14135.").arxiv_id == "2205.14135"
    assert parse_reference("X. Title. https://doi.org/10.1145/3442188.3445922.").doi == \
        "10.1145/3442188.3445922"  # fmt: skip
    entry = parse_reference("X. Title. In Proc. NAACL, 2021, DOI:10.18653/v1/2021.naacl-main.41.")
    assert (entry.doi, entry.arxiv_id, entry.year) == ("10.18653/v1/2021.naacl-main.41", None, 2021)


def test_markers_are_found_in_each_form() -> None:
    found = find_markers("We build on X [4], on [3, 5] and on [2-4]; see (Smith et al., 2023; "
                         "Doe and Lee, 2022a) and Hinton et al. (2015).")  # fmt: skip
    assert [m.numbers for m in found if m.numbers] == [(4,), (3, 5), (2, 3, 4)]
    assert [m.names for m in found if m.names] == [
        (("smith", 2023, ""), ("doe", 2022, "a")),
        (("hinton", 2015, ""),),
    ]
    assert find_markers("青梧以 Quillwort[1] 的分块路由为基础")[0].numbers == (1,)


def test_markers_resolve_to_entries_by_number_or_by_author_and_year() -> None:
    numbered = [parse_reference(f"[{n}] A. Author. Title {n}. 2020.") for n in (1, 2, 3)]
    assert resolve_markers(find_markers("as in [1, 3]"), numbered) == (0, 2)
    assert resolve_markers(find_markers("values in [0, 1]"), numbered) == ()  # an interval
    assert resolve_markers(find_markers("see [2-9]"), numbered) == ()
    author_year = [parse_reference(t) for t in (
        "Lee, K. 2022. A first. Venue.", "Lee, K. 2022. A second. Venue.", "Smith, J. 2023. T.")]  # fmt: skip
    assert resolve_markers(find_markers("(Lee, 2022b; Smith, 2023)"), author_year) == (1, 2)
    assert resolve_markers(find_markers("(Lee, 2019)"), author_year) == ()


def test_body_sentences_cite_the_entries_of_the_fixtures() -> None:
    references = gold("pdf_references_dev.json")
    for case in references["body_lineage"]:
        document = paper(case["pdf"])
        cited_entry = next(i for i, entry in enumerate(references["references"][case["pdf"]])
                           if entry["cites"] == case["cites"])  # fmt: skip
        matches = [c for c in citing_sentences(document) if case["sentence"] in c.sentence]
        assert matches, case["sentence"]
        assert matches[0].page == case["page"] and cited_entry in matches[0].references


def test_every_citing_sentence_is_body_text_with_its_markers() -> None:
    for name in PAPERS:
        document = paper(name)
        cites = citing_sentences(document)
        assert cites, name
        for cite in cites:
            assert all(marker in cite.sentence for marker in cite.markers)
            assert all(0 <= i < len(document.references) for i in cite.references)
            assert cite.section not in ("References", "参考文献", "REFERENCES")
            assert cite.sentence in document.page(cite.page).text or cite.page >= 1


def test_every_entry_of_an_author_year_list_is_cited_from_the_body() -> None:
    document = paper("halyard.pdf")
    cited = {i for cite in citing_sentences(document) for i in cite.references}
    assert cited == set(range(len(document.references)))
