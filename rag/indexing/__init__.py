"""The persisted dense index: a corpus's passages kept embedded in a store, fresh and checked.

Owns the index lifecycle over a `rag.stores` store (`index`: reuse a fresh index, refresh only the
passages whose text changed, rebuild for another embedder, reject a corrupt one with a clear
reason). Which passages a paper becomes is `rag.passages`; where the vectors live is `rag.stores`.
"""
