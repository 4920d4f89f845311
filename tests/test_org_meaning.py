"""One meaning of "an organisation's papers": its labs' included, everywhere, and said so."""

from __future__ import annotations

import json

import pytest

from kg.corpus import SHIPPED_CORPUS
from kg.graph import KnowledgeGraph
from rag.answering.pipeline import Engine, ask
from ui.app_services import AppServices, ServeOptions


@pytest.fixture(scope="module")
def services() -> AppServices:
    return AppServices(ServeOptions(corpus=SHIPPED_CORPUS))


def test_cli_ask_app_and_api_give_the_same_list(
    kg: KnowledgeGraph, run_kgrag, services: AppServices
) -> None:
    from ui.app_api import papers_json
    from ui.app_papers import select_papers

    result = run_kgrag("papers", "--org", "Google", "--json")
    cli = [p["id"] for p in json.loads(result.stdout)]
    engine = Engine(kg, generator_factory=lambda: pytest.fail("no LLM for a graph answer"))
    answer = ask("Which papers did Google publish?", engine)
    app = [p.id for p in select_papers(services, "谷歌", "All", "All", "")]
    api = [p["id"] for p in papers_json(services, "Google")]
    assert cli == [c.id for c in answer.citations] == app == api
    assert len(cli) == 5 and "fiat" in cli  # FIAT is Google DeepMind's
    assert "5 paper(s) published by Google (1 of them by Google DeepMind)" in answer.text
    text = run_kgrag("papers", "--org", "Google")
    assert "5 paper(s), 1 of them by Google DeepMind" in text.stderr


def test_exact_org_keeps_only_the_organisation_s_own_papers(
    run_kgrag, services: AppServices
) -> None:
    from ui.app_api import papers_json
    from ui.app_papers import select_papers

    cli = [p["id"] for p in json.loads(run_kgrag("papers", "--org", "Google", "--exact-org",
                                                 "--json").stdout)]  # fmt: skip
    app = [p.id for p in select_papers(services, "Google", "All", "All", "", exact_org=True)]
    assert cli == app == [p["id"] for p in papers_json(services, "Google", exact_org=True)]
    assert len(cli) == 4 and "fiat" not in cli
