"""Checking what an answer says against the sources it cites: citations are checked, never trusted.

Owns the citation syntax (`citations`: `[P1]`, `[P1, P3]`), the sentence-by-sentence checker that
drops invented citations and unsupported sentences (`cite`) and the binding of each figure to what
it measures in its source clause (`figures`). It knows passages and an embedder, nothing of
routing or of the LLM.
"""
