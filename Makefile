# kgrag: `make run` starts the app, `make test` checks everything. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kgrag-installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Models come from PyPI packages only; nothing may reach a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install llama models index run test lint format bench browser-deps graphviz clean

# llama-cpp-python is built for this CPU's own vector features with AMX off (its kernels crash on
# the shipped model) and installed from a wheelhouse keyed by those flags: see rag/llm/build.py.
# --only-binary: pip must never compile it itself (that build would use -march=native).
$(STAMP): pyproject.toml constraints.txt rag/llm/build.py
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "kgrag needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m rag.llm.build install
	@echo "Installing kgrag and its dependencies…"
	$(BIN)/python -m pip install --progress-bar on --only-binary llama-cpp-python -c constraints.txt -e '.[dev,milvus,ray]'
	touch $(STAMP)

# Every time: a no-op when the installed build matches this CPU, a rebuild when it does not.
llama: $(STAMP)
	$(BIN)/python -m rag.llm.build install
	$(BIN)/python -m rag.llm.build check

install: $(STAMP) llama models graphviz

models: $(STAMP)
	$(BIN)/kgrag models --install

index: install
	$(BIN)/kgrag index

run: index
	$(BIN)/kgrag serve

lint: $(STAMP)
	$(BIN)/ruff check kg rag ui tests bench
	$(BIN)/ruff format --check kg rag ui tests bench
	$(BIN)/mypy kg rag ui
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix kg rag ui tests bench
	$(BIN)/ruff format kg rag ui tests bench

# Graphviz's `dot` lays out the app's lineage chart (without it the tab says how to install it).
graphviz:
	@command -v dot >/dev/null || { \
	  echo "Installing Graphviz (the lineage chart's layout engine)…"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq graphviz; }

# Debian's chromium drives the browser tests; a CJK font makes Chinese readable in screenshots.
browser-deps:
	@{ test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi wqy; } || { \
	  echo "Installing Debian's chromium and a CJK font for the browser tests…"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei; }

test: install lint browser-deps
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts *.egg-info
