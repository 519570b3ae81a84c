# Every target sets itself up: a fresh clone needs only Python >= 3.11 and the package index.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint format typecheck pytest docs site-screenshots bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ipv6alloc needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package alone (what `make demo` needs) and the package with the development tools.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/ipv6alloc demo

test: lint typecheck pytest

# What ruff and mypy check: the package, its tests and benchmarks, and the docs site's tooling.
CHECKED := src tests benchmarks docs/*.py docs/notebooks/*.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix $(CHECKED)
	$(BIN)/ruff format $(CHECKED)

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest

# The documentation site, strictly (a broken link or reference fails), into site/ (git-ignored).
# `make test` builds it too (tests/test_site.py), and opens pages in headless Chromium.
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

# Screenshots of the site for the README (docs/images/site-*.png): headless Chromium.
site-screenshots: docs
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build dist site

# Full benchmark run (about 15 minutes on 2 cores), then the plots; results in benchmarks/results.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.plot

# Small N only, into benchmarks/results/quick (git-ignored): checks that the benchmarks still run.
bench-quick: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run --quick

# The plots docs/capacity.md shows (docs/images/capacity-*.png), from the capacity planning
# notebook's 1,000-node cluster; `python docs/notebooks/build.py notebook` rebuilds the notebook.
.PHONY: capacity-plots
capacity-plots: $(VENV)/.installed-dev
	$(BIN)/python docs/notebooks/build.py plots
