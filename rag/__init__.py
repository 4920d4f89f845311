"""Retrieval and answers over the knowledge graph (`kg`): one package per job.

From the bottom up: `settings` (the one reader of the environment), `protocols` (the seams) and
`passages` (what a paper is split into for indexing);
`models` (the model catalogue), `llm` (llama.cpp), `embedding`; `stores` (where vectors live),
`indexing` (passages and the persisted index), `retrieval`; `checking` (citations checked against
their sources), `answering` (route, evidence, prompts, graph answers, the pipeline); `engine` (the
composition root) and `doctor`. `evaluation` measures all of it and is never on the answering path.
"""
