"""Retrieval and answers over the knowledge graph (`kg`): one package per job.

From the bottom up: `settings` (the one reader of the environment) and `protocols` (the seams);
`models` (the model catalogue), `llm` (llama.cpp), `embedding`; `stores` (where vectors live),
`indexing` (passages and the persisted index), `retrieval`; `checking` (citations checked against
their sources), `answering` (route, evidence, prompts, graph answers, the pipeline); `engine` (the
composition root) and `doctor`. `evaluation` measures all of it and is never on the answering path.
"""
