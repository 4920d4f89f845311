"""Text embedders: text in, float32 L2-normalised rows out (cosine = inner product).

Owns the registry that says which backend an embedder spec names (`embedders`: `EMBEDDERS`,
`load_embedder`) and the backends behind `rag.protocols.Embedder`, one module each:
EmbeddingGemma-300M (`gemma`, on its ONNX export from `onnx_embedder`, else on torch),
sentence-transformers folders (`sentence_transformer`) and the multilingual Universal Sentence
Encoder (`use`); plus distributed encoding on Ray (`ray_encoder`). A new embedder is one module
with a `from_request` factory plus one line in `embedders.EMBEDDERS`.
"""
