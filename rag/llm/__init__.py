"""The local LLM: the llama.cpp build for this CPU, the generator and its worker process.

Owns building and checking llama-cpp-python for this CPU (`build`, run by the Makefile as
`python -m rag.llm.build`), the in-process llama.cpp generator behind `rag.protocols.Generator`
(`generator`) and the child process that turns a native crash into a typed error (`worker`).
"""
