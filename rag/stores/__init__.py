"""Where passage vectors live: the `VectorStore` seam and its implementations, one module each.

Owns the protocol, the manifest and the registry that picks a store from a URI (`base`), the FAISS
folder with its atomic swap (`faiss`) and Milvus Lite / Milvus server (`milvus`). A new store is one
module here plus one registration in `base.STORES`.
"""
