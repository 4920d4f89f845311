"""Answering a question: where it goes, what the model sees, and the answer it gets.

Owns the route (`route`: graph, retrieval + LLM, both, or a refusal; `dates` reads the months a
question names), the exact graph answers and their sentences (`graph_answer`, `graph_phrases`),
the evidence sentences chosen for the prompt (`evidence`), every text sent to the LLM (`prompts`),
when to say the corpus does not cover a question (`refusal`) and the pipeline that ties them into a
streamed, checked `Answer` (`pipeline`). It uses retrieval and checking; it builds none of its
parts (`rag.engine` does).
"""
