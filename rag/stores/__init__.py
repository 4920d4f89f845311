"""`VectorStore` implementations, one module each (registered in `rag.store.STORES`)."""
