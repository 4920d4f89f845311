"""Shared test set-up: fixtures live in per-area plugins under tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.kg",
    "tests.fixtures.retrieval",
    "tests.fixtures.llm",
    "tests.fixtures.milvus_server",
]
