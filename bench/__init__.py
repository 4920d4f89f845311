"""Benchmarks: `python -m bench [NAME ...]` runs every `bench/<name>.py` that has a `main()`.

They print measured figures (never assert times); ratios compare runs made in the same process.
"""
