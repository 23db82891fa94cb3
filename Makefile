# Two commands on a fresh machine: `make repro` (set up, run the pipeline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
# dvc runs stage commands (`python -m textclf.stages...`) through PATH: use the venv's python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup repro test lint bench

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-remote.txt requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt -c requirements.lock
	touch $@

setup: $(VENV)/.installed

repro: setup
	dvc repro

lint: setup
	ruff check .
	ruff format --check .

test: lint
	pytest

# speed benchmark on real AG News rows (see bench/README.md); writes bench/RESULTS.md.
# BENCH_DATA: a folder with AG-News-format train.csv and test.csv (header-less label,title,description)
BENCH_DATA ?= data/bench
bench: setup
	python bench/speed.py --data $(BENCH_DATA) --train-rows 1000 --test-rows 2000 --repeats 3 --int8
