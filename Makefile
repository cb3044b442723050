# One entry point for people and CI. Every target sets up what it needs the first time.
#   make book   build the HTML (creates .venv if missing)      make test   every test
#   make pdf    build the whole-book PDF (installs TeX as root) make bench  build timings
#   make package  regenerate src/mlsafety from the chapters     make clean  remove _build
#   make check  fast source checks (no execution)               make lint   every linter CI runs

#   make lighthouse  Lighthouse scores of the built pages (installs Chromium and npm tools as root)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: book html pdf test bench package check-package clean lock tex env check lint format chapter linkcheck browser lighthouse

book html: $(STAMP) package
	$(BIN)/python tools/build.py html

pdf: $(STAMP) package tex
	$(BIN)/python tools/build.py pdf

test: $(STAMP) tex browser
	$(BIN)/python -m pytest

bench: $(STAMP) package
	$(BIN)/python tools/bench.py

package: $(STAMP)
	$(BIN)/python tools/export_package.py

check-package: $(STAMP)
	$(BIN)/python tools/export_package.py --check

tex:
	bash tools/setup_tex.sh

# Contributor checks (CONTRIBUTING.md). `check` is fast and executes nothing.
check: $(STAMP)
	$(BIN)/python tools/check.py

lint: $(STAMP)
	$(BIN)/ruff check src tools tests
	$(BIN)/ruff format --check tools tests
	$(BIN)/python tools/lint_cells.py
	$(BIN)/codespell
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/python tools/check.py

format: $(STAMP)
	$(BIN)/ruff check --fix tools tests
	$(BIN)/ruff format tools tests

# Run one chapter in a fresh kernel, with each cell's time: make chapter CHAPTER=book/<part>/<lecture>.md
chapter: $(STAMP) package
	@test -n "$(CHAPTER)" || { echo "usage: make chapter CHAPTER=book/<part>/<lecture>.md" >&2; exit 2; }
	$(BIN)/python tools/run_chapter.py $(CHAPTER)

# External links (needs the network; the weekly workflow runs it).
linkcheck: $(STAMP) package
	$(BIN)/python tools/build.py linkcheck

browser:
	bash tools/setup_browser.sh

# Scores vary with machine load: recorded in _build/lighthouse/, not asserted by the tests.
# The pages are built for the address they are served from (canonical links), as when deployed.
LIGHTHOUSE_PORT ?= 8765
lighthouse: $(STAMP) package browser
	BOOK_BASEURL=http://127.0.0.1:$(LIGHTHOUSE_PORT)/ $(BIN)/python tools/build.py html
	$(BIN)/python tools/lighthouse.py --port $(LIGHTHOUSE_PORT)

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "Environment ready in $(VENV)"

# Refresh the lock after changing dependencies in pyproject.toml (needs the network).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[book]"
	{ echo '# Exact versions that CI and `make` install (torch is the CPU build). Regenerate with `make lock`.'; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^-e\|^mlsafety'; } > requirements.lock

clean:
	rm -rf _build
