"""Named API endpoints for `gradio_client`: `ask`, `lineage`, `papers` (and `export_graph`, in
app_export).

Errors reach the client as `gradio.Error` with the library's message (never a traceback).
"""

from __future__ import annotations

import gradio as gr

from kg.limits import check_question
from ui.app_errors import message_for
from ui.app_services import AppServices


def register_api(services: AppServices) -> None:
    def ask(question: str) -> dict:
        """Answer a question from the corpus: the `kgrag ask --json` shape (text + citations)."""
        try:
            answer = None
            check_question(question)
            for item in services.ask_stream(question):
                if not isinstance(item, str):
                    answer = item
            if answer is None:
                raise RuntimeError("the answer engine returned no checked answer")
            return dict(answer.to_json())
        except Exception as exc:
            raise gr.Error(message_for(exc)) from exc

    def lineage(name: str) -> dict:
        """The lineage of a work, as `kgrag lineage NAME --json` prints it."""
        from kg.queries import lineage as lineage_of

        try:
            return lineage_of(services.kg(), name).to_json()
        except Exception as exc:
            raise gr.Error(message_for(exc)) from exc

    def papers(org: str, exact_org: bool = False) -> list:
        """An organisation's papers (any alias; its labs' included unless `exact_org`), as
        `kgrag papers --org ORG [--exact-org] --json` prints them."""
        try:
            return papers_json(services, org, exact_org)
        except Exception as exc:
            raise gr.Error(message_for(exc)) from exc

    gr.api(ask, api_name="ask")
    gr.api(lineage, api_name="lineage")
    gr.api(papers, api_name="papers")


def papers_json(services: AppServices, org: str, exact_org: bool = False) -> list[dict]:
    """The `/papers` endpoint's answer: the Papers tab's selection in the CLI's JSON shape."""
    from kg.records import paper_json
    from ui.app_papers import ALL, select_papers

    return [paper_json(p) for p in select_papers(services, org, ALL, ALL, "", exact_org)]
