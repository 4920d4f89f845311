"""The persisted dense index: which passages a corpus becomes and how their vectors are kept fresh.

Owns the passages of each paper (`passages`: header + abstract pieces with their paper id) and the
index lifecycle over a `rag.stores` store (`index`: reuse, refresh only changed passages, rebuild
for another embedder, reject a corrupt one with a clear error).
"""
