"""Finding the passages that answer a question: dense + BM25 rankings fused, then graph expansion.

Owns the mixed Chinese/English BM25 tokenizer and index (`bm25`) and the hybrid `Retriever`
(`retrieve`). It reads an open index (`rag.indexing`) and the graph (`kg`), nothing of answering.
"""
