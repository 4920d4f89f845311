"""Text embedders: text in, float32 L2-normalised rows out (cosine = inner product).

Owns the backends behind `rag.protocols.Embedder` (`embedders`: sentence-transformers folders and
the multilingual Universal Sentence Encoder; `onnx_embedder`: EmbeddingGemma on ONNX Runtime) and
distributed encoding on Ray (`ray_encoder`). Which embedder a spec names is decided here.
"""
