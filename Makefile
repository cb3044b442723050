# One entry point for people and CI. Every target sets up what it needs the first time.
#   make book   build the HTML (creates .venv if missing)      make test   every test
#   make pdf    build the whole-book PDF (installs TeX as root) make bench  build timings
#   make book EDITION=instructor / make pdf EDITION=instructor   the edition with exercise solutions
#   make handouts   one PDF per chapter, student and instructor editions
#   make package  regenerate src/mlsafety from the chapters     make clean  remove _build
#   make check  fast source checks (no execution)               make lint   every linter CI runs
#   make chapter CHAPTER=book/<part>/<lecture>.md   run one chapter offline, each cell's time
#   make preview CHAPTER=book/<part>/<lecture>.md   one chapter's HTML page, in seconds

#   make test-fast  library, source and lint tests (no book build, no browser; under 2 minutes)
#   make test-full  every test, re-checking every chapter for determinism (the weekly run)
#   make gpu-check  every chapter on the GPU and on the CPU, compared (skips without CUDA)
#   make lighthouse  Lighthouse scores of the built pages (installs Chromium, Node.js and Lighthouse as root)
#   make book TORCH_INDEX=cpu  install the small CPU-only torch from PyTorch's CPU index
#   make assignments  student and solution notebooks of the assignments, in _build/assignments/
#   make grade NOTEBOOKS=dir/  grade submitted assignment notebooks (CSV in dir/grades.csv; JOBS=2 runs two at once)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
# The book's kernels run over loopback TCP; their one start-up warning about it is noise in the log.
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.json
# TORCH_INDEX=cpu: let pip also see PyTorch's CPU wheel index, where torch==X.Y.Z resolves to the
# CPU-only build (X.Y.Z+cpu sorts above X.Y.Z). Without it, pip gets torch from PyPI.
ifeq ($(TORCH_INDEX),cpu)
export PIP_EXTRA_INDEX_URL := https://download.pytorch.org/whl/cpu
endif

.PHONY: assignments grade book html pdf handouts test test-fast test-full gpu-check wheel bench package check-package clean lock tex env check lint format chapter preview linkcheck browser lighthouse

# EDITION=student|instructor: the other edition than _config.yml's book_edition goes to _build/<edition>/.
EDITION ?=
EDITION_FLAG := $(if $(EDITION),--edition $(EDITION))

book html: $(STAMP) $(KERNEL_CONFIG) package
	$(BIN)/python tools/build.py html $(EDITION_FLAG)

pdf: $(STAMP) $(KERNEL_CONFIG) package tex
	$(BIN)/python tools/build.py pdf $(EDITION_FLAG)

# One PDF per chapter, both editions (or EDITION=...), in _build/handouts/<edition>/; the student
# ones also in _build/html/_handouts/, which each chapter page links.
handouts: $(STAMP) $(KERNEL_CONFIG) package tex
	$(BIN)/python tools/build.py handouts $(EDITION_FLAG)

# Reuses the execution cache that `make book` left in _build/ when it is current (so after
# `make book` the chapters are not executed again); re-checks determinism for changed chapters.
test: $(STAMP) $(KERNEL_CONFIG) tex browser
	$(BIN)/python -m pytest

# Library, source checks, package sync and linters: no book build, no browser.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/library tests/source

test-full: $(STAMP) $(KERNEL_CONFIG) tex browser
	DETERMINISM=all $(BIN)/python -m pytest

# The library as a wheel beside the pages: the chapter notebooks install it from the published site.
wheel: $(STAMP) package
	rm -rf _build/html/_wheels
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w _build/html/_wheels .
	@ls _build/html/_wheels/*.whl

gpu-check: $(STAMP) package
	$(BIN)/python tools/gpu_check.py

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
	$(BIN)/ruff check src tools tests book/_ext
	$(BIN)/ruff format --check tools tests book/_ext
	$(BIN)/python tools/lint_cells.py
	$(BIN)/codespell
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/python tools/check.py

format: $(STAMP)
	$(BIN)/ruff check --fix tools tests book/_ext
	$(BIN)/ruff format tools tests book/_ext

# Run one chapter in a fresh kernel with the network off, with each cell's time:
#   make chapter CHAPTER=book/<part>/<lecture>.md
chapter: $(STAMP) $(KERNEL_CONFIG) package
	@test -n "$(CHAPTER)" || { echo "usage: make chapter CHAPTER=book/<part>/<lecture>.md" >&2; exit 2; }
	$(BIN)/python tools/run_chapter.py $(CHAPTER)

# One chapter's HTML page (with the glossary and bibliography), offline, sharing the book's execution cache:
#   make preview CHAPTER=book/<part>/<lecture>.md
preview: $(STAMP) $(KERNEL_CONFIG) package
	@test -n "$(CHAPTER)" || { echo "usage: make preview CHAPTER=book/<part>/<lecture>.md" >&2; exit 2; }
	$(BIN)/python tools/build.py preview $(CHAPTER)

# The programming assignments (notebooks/README.md): both notebooks of each, and grading submissions.
assignments: $(STAMP)
	$(BIN)/python tools/assignments.py build --out _build/assignments

grade: $(STAMP) $(KERNEL_CONFIG)
	@test -n "$(NOTEBOOKS)" || { echo "usage: make grade NOTEBOOKS=dir/ [JOBS=2]" >&2; exit 2; }
	$(BIN)/python tools/assignments.py grade "$(NOTEBOOKS)" --jobs $(or $(JOBS),1)

# External links (needs the network; the weekly workflow runs it).
linkcheck: $(STAMP) package
	$(BIN)/python tools/build.py linkcheck

# Chromium for the browser tests (axe-core comes from requirements.lock: no Node.js for `make test`).
browser:
	bash tools/setup_browser.sh

# Scores vary with machine load: recorded in _build/lighthouse/, not asserted by the tests. Served over
# HTTP/2 + TLS with gzip as GitHub Pages serves it (tools/serve_h2.mjs, a certificate made by openssl).
# The pages are built for the address they are served from (canonical links), as when deployed.
LIGHTHOUSE_PORT ?= 8765
lighthouse: $(STAMP) package
	bash tools/setup_lighthouse.sh
	BOOK_BASEURL=https://127.0.0.1:$(LIGHTHOUSE_PORT)/ $(BIN)/python tools/build.py html
	$(BIN)/python tools/lighthouse.py --port $(LIGHTHOUSE_PORT)

env: $(STAMP) $(KERNEL_CONFIG)

$(KERNEL_CONFIG): | $(STAMP)
	@mkdir -p $(dir $@)
	@echo '{"IPKernelApp": {"log_level": "ERROR"}}' > $@

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "Environment ready in $(VENV)"

# Refresh the lock after changing dependencies in pyproject.toml (needs the network). Refuses a
# venv with a CUDA build of torch: use TORCH_INDEX=cpu on a machine whose pip sees only PyPI.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[book]"
	$(BIN)/python tools/lock.py

clean:
	rm -rf _build
