"""The local LLM: the llama.cpp build for this CPU, the generator backends and their registry.

Owns building and checking llama-cpp-python for this CPU (`build`, run by the Makefile as
`python -m rag.llm.build`), the registry that says which generator the settings name
(`generators`: `GENERATORS`, `load_generator`), and the backends behind
`rag.protocols.Generator`, one module each: llama.cpp in this process (`generator`) and in a
child process that turns a native crash into a typed error (`worker`, the default). A GGUF
file's header is read and checked without loading it (`gguf`). A new generator is one module
with a `from_request` factory plus one line in `generators.GENERATORS`.
"""
