"""The Ask tab: a streaming chat whose answers end checked, with citation chips and sources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from kg.limits import MAX_QUESTION_CHARS, check_question
from ui.app_cards import card_html
from ui.app_errors import message_for
from ui.app_format import (
    answer_panel,
    chat_answer,
    chat_message,
    citing_sentences,
    draft_message,
    empty_card,
    error_box,
    settled_answer,
    supporting_sentence,
    verdict_html,
)
from ui.app_services import AppServices

if TYPE_CHECKING:
    from rag.answering.records import Answer

EXAMPLES = [
    "What is Code Llama based on?",
    "Which papers did Google publish?",
    "How does speculative decoding speed up inference?",
    "Code Llama 基于哪个模型?",
    "有哪些多模态论文?",
    "DoReMi 是如何优化预训练数据配比的?",
]
CARD_HINT = "Click a numbered citation or a source to see the paper's card here."


def build_ask_tab(services: AppServices, interact_js: str) -> None:
    def open_node(evt: gr.SelectData) -> str:
        return card_html(services, str(evt.value or ""))

    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            chat = gr.Chatbot(
                # The floating label sat over the messages as they scrolled: named, not shown.
                label="Conversation",
                show_label=False,
                height=520,
                elem_id="kg-chat",
                buttons=["copy"],
                feedback_options=None,
                # Messages carry corpus text: shown literally (`_msg` escapes them), so no
                # Markdown (an image or a link from a title) and no LaTeX.
                render_markdown=False,
                latex_delimiters=[],
                sanitize_html=True,
                placeholder="Ask about the papers in the corpus — in English or 中文.",
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False,
                    placeholder="e.g. What is Code Llama based on?  /  Code Llama 基于哪个模型?",
                    scale=8,
                    elem_id="kg-question",
                    autofocus=True,
                )
                send = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="kg-ask")
                clear = gr.Button("New chat", scale=1, min_width=90, elem_id="kg-clear")
            gr.Examples(EXAMPLES, inputs=[question], label="Example questions · 示例问题")
            with gr.Accordion("Check a claim · 核对一句话", open=False, elem_id="kg-claim-box"):
                with gr.Row():
                    claim = gr.Textbox(
                        show_label=False,
                        placeholder="A sentence about a paper, e.g. from your draft: "
                        "“Mixtral uses 13B active parameters per token.”",
                        scale=8,
                        elem_id="kg-claim",
                    )
                    check = gr.Button("Check", scale=1, min_width=90, elem_id="kg-check")
                verdict = gr.HTML(elem_id="kg-claim-result", js_on_load=interact_js)
        with gr.Column(scale=2, min_width=320):
            meta = gr.HTML(
                '<div class="kg-muted">The route, citations and sources of the answer appear '
                "here.</div>",
                js_on_load=interact_js,
                elem_id="kg-answer-meta",
            )
            card = gr.HTML(empty_card(CARD_HINT), js_on_load=interact_js, elem_id="kg-ask-card")
    asked = gr.State([])  # earlier questions of this session, for follow-ups
    last = gr.State(None)  # the last checked Answer, to highlight what a citation supports

    def respond(text: str, messages: list[Any], earlier: list[str], previous: Any) -> Iterator[Any]:
        yield from _respond(services, text, messages, earlier, previous)

    outputs = [question, chat, meta, card, asked, last]
    inputs = [question, chat, asked, last]
    send.click(respond, inputs, outputs, api_visibility="private")
    question.submit(respond, inputs, outputs, api_visibility="private")

    def new_chat() -> tuple[Any, ...]:
        return [], "", empty_card(CARD_HINT), [], None

    clear.click(new_chat, None, [chat, meta, card, asked, last], api_visibility="private")
    # The chat's own clear icon (hidden by app.css: it sat under the first message's copy
    # button) starts over the same way should it be shown.
    chat.clear(new_chat, None, [chat, meta, card, asked, last], api_visibility="private")

    def open_card(answer: Any, evt: gr.SelectData) -> str:
        node = str(evt.value or "")
        paper_id = node.split(":", 1)[1] if node.startswith("paper:") else node
        if answer is None:
            return card_html(services, node)
        return card_html(services, node, *_support(answer, paper_id))

    meta.select(open_card, [last], [card], api_visibility="private")
    check.click(lambda text: _check_claim(services, text), [claim], [verdict],
                api_visibility="private")  # fmt: skip
    claim.submit(lambda text: _check_claim(services, text), [claim], [verdict],
                 api_visibility="private")  # fmt: skip
    verdict.select(open_node, None, [card], api_visibility="private")
    card.select(open_node, None, [card],
                api_visibility="private")  # fmt: skip


def _check_claim(services: AppServices, text: str) -> str:
    """`kgrag verify` on the library for the claim box: the verdict, or what went wrong."""
    text = (text or "").strip()
    if not text:
        return error_box("type a claim to check first: one sentence about a paper.")
    if len(text) > MAX_QUESTION_CHARS:  # a claim is a sentence: a question's limit is ample
        return error_box(f"the claim has {len(text):,} characters; check one sentence at a "
                         f"time (at most {MAX_QUESTION_CHARS:,}).")  # fmt: skip
    try:
        return verdict_html(services.check_claim(text))
    except Exception as exc:
        return error_box(message_for(exc))


def _support(answer: Answer, paper_id: str) -> tuple[list[str], int | None, str]:
    """What a cited paper's card marks: the source sentence that supports what the answer cites
    it for (`Citation.sentence`), and its page when it is from a PDF's body; for a source shown
    but not cited, the answer's sentences and the source's evidence choose the sentence."""
    cited = next((c for c in answer.citations if c.id == paper_id and c.sentence), None)
    if cited is not None:
        return [cited.sentence], cited.page, cited.sentence
    citing = citing_sentences(answer.text, answer.sources, paper_id)
    sources = [s for s in answer.sources if s.id == paper_id]
    highlight = citing + [s.snippet for s in sources]
    paged = next((s for s in sources if s.page is not None), None)
    if paged is None:
        return highlight, None, ""
    return highlight, paged.page, supporting_sentence(paged.snippet, citing or [answer.text])


def _respond(
    services: AppServices, text: str, messages: list[Any], earlier: list[str], previous: Any
) -> Iterator[Any]:
    text = (text or "").strip()
    messages = list(messages or [])
    if not text:
        yield (
            "",
            messages,
            error_box("type a question first."),
            empty_card(CARD_HINT),
            earlier,
            previous,
        )
        return
    messages = [_settled(m) for m in messages]  # the chips will be the new answer's
    messages += [_msg("user", text), _msg("assistant", "…")]
    waiting = f'<div class="kg-muted">{_waiting_note(services)}</div>'
    yield "", messages, waiting, empty_card(CARD_HINT), earlier, previous
    streamed = ""
    try:
        answer = None
        check_question(text)  # a 20,000-character paste is a clear limit, not a refusal
        for item in services.ask_stream(text, tuple(earlier)):
            if isinstance(item, str):
                streamed += item
                messages[-1] = {"role": "assistant", "content": draft_message(streamed)}
                yield "", messages, waiting, empty_card(CARD_HINT), earlier, previous
            else:
                answer = item
        if answer is None:
            raise RuntimeError("the answer engine returned no checked answer")
        shown = chat_answer(answer.text, answer.citations, answer.sources)  # escaped there
        messages[-1] = {"role": "assistant", "content": shown}
        panel = answer_panel(answer)
        yield "", messages, panel, empty_card(CARD_HINT), [*earlier, text], answer
    except Exception as exc:
        message = message_for(exc)
        messages[-1] = _msg("assistant", f"⚠️ {message}")
        yield "", messages, error_box(message), empty_card(CARD_HINT), earlier, previous


WAITING = {
    "ready": "Thinking…",
    "loading": "Thinking… (the models are still loading in the background)",
    "failed": "Thinking… (the models did not load at start; this question loads them again)",
    "cold": "Thinking… (the first question loads the models)",
}


def _waiting_note(services: AppServices) -> str:
    """What the answer panel says while a question runs: whether the models still have to
    load (`AppServices.models_state`) and how many questions are ahead for the LLM."""
    queued = services.llm_queue()
    if queued:
        return (f"Thinking… if this question needs the LLM, {queued} question(s) are ahead of "
                "it; graph answers do not wait.")  # fmt: skip
    return WAITING[services.models_state()]


def _settled(message: Any) -> Any:
    """An earlier chat message with its `[n]` markers plain (`settled_answer`); the chat hands
    its messages back with the content as a string or as a list of text parts."""
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return message
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": settled_answer(content)}
    if isinstance(content, list):
        parts = [{**p, "text": settled_answer(p["text"])}
                 if isinstance(p, dict) and isinstance(p.get("text"), str) else p
                 for p in content]  # fmt: skip
        return {**message, "content": parts}
    return message


def _msg(role: str, text: str) -> dict[str, str]:
    """A chat message; every text the chat shows (question, answer, error) passes here, the
    draft through `draft_message`."""
    return {"role": role, "content": chat_message(text)}
