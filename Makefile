# Every target creates the virtual environment and installs the pinned dependencies on first use,
# so on a fresh machine `make reproduce` and `make test` are the whole set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PROFILE ?= default
NB      ?=
PARAMS  ?=
DATA    ?=
EX      ?=

.PHONY: help setup reproduce report smoke test test-fast lab run exercise bench clean

help:
	@echo "make reproduce            run every notebook under the default profile (only what changed), then results/REPORT.md"
	@echo "make reproduce PROFILE=paper DATA=<folder>   the papers' sizes on real datasets (subfolders ucid_social, public_social, iplab, dresden)"
	@echo "make report               rebuild the report of the last run"
	@echo "make exercise EX=<name>   run a teacher's exercise from exercises/ into results/exercises/<name>/ (no EX: list them)"
	@echo "make test                 run the test suite (includes a smoke run of every notebook)"
	@echo "make test-fast            the tests not marked slow (no notebook runs, fuzzing, crash or distributed tests), in under 2 minutes"
	@echo "make run NB=<notebook> [PROFILE=smoke|default|paper] [PARAMS=file.yaml]"
	@echo "make smoke                every notebook under the smoke profile"
	@echo "make lab                  JupyterLab on notebooks/"
	@echo "make bench                the benchmarks in benchmarks/"
	@echo "make clean                remove results, caches and the virtual environment"

$(BIN)/activate:
	$(PYTHON) -c 'import sys; assert (3, 10) <= sys.version_info[:2] <= (3, 12), "Python 3.10-3.12 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

setup: $(VENV)/.installed

reproduce: setup
	$(BIN)/python -m forensiclib reproduce --profile $(PROFILE) $(if $(DATA),--data $(DATA))

report: setup
	$(BIN)/python -m forensiclib report --profile $(PROFILE)

exercise: setup
	$(BIN)/python -m forensiclib exercise $(EX)

smoke: setup
	$(BIN)/python -m forensiclib reproduce --profile smoke

run: setup
	@test -n "$(NB)" || { echo "usage: make run NB=<notebook> [PROFILE=smoke|default|paper] [PARAMS=file.yaml]"; exit 2; }
	$(BIN)/python -m forensiclib reproduce --profile $(PROFILE) $(if $(PARAMS),--params $(PARAMS)) $(NB)

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

lab: setup
	$(BIN)/python -m forensiclib kernel
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_datasets.py
	$(BIN)/python benchmarks/bench_incremental.py --profile smoke
	$(BIN)/python benchmarks/bench_transfer.py
	$(BIN)/python benchmarks/bench_streaming.py

clean:
	rm -rf results/smoke results/paper results/exercises .cache $(VENV) *.egg-info .pytest_cache
