# Two commands on a fresh machine: `make quick` (set up, a few-minute run on a laptop CPU) or
# `make repro` (the full run), and `make test`.
PYTHON ?= python3
VENV ?= .venv
# TORCH=cpu: PyTorch's CPU-only build from PyTorch's own index (about 200 MB); unset: PyPI's
# build, which on Linux brings CUDA's libraries (several GB) and runs on an NVIDIA GPU or a CPU
TORCH ?=
TORCH_CPU_INDEX = https://download.pytorch.org/whl/cpu
TORCH_CPU_NOTE = the CPU-only build (about 200 MB)
TORCH_PYPI_NOTE = PyPI's build (on Linux with CUDA's libraries: several GB; TORCH=cpu for the CPU-only one)
# `make quick` on other sources: DATA, a folder with AG-News-format train.csv and test.csv
# (offline machines); MODEL, a pretrained model folder instead of the MiniLM package's
DATA ?=
MODEL ?=
# dvc runs stage commands (`python -m textclf.stages...`) through PATH: use the venv's python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup quick repro plots test test-fast lint bench gpu-kit

# each step says what it does; pip shows each download with its size as it comes
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-remote.txt requirements.lock pyproject.toml
	@echo "setup 1/3: a virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	@echo "setup 2/3: PyTorch, $(if $(filter cpu,$(TORCH)),$(TORCH_CPU_NOTE),$(TORCH_PYPI_NOTE))"
	$(if $(filter cpu,$(TORCH)),$(VENV)/bin/pip install --progress-bar off "$$(grep '^torch==' requirements.txt)" --index-url $(TORCH_CPU_INDEX),$(VENV)/bin/pip install --progress-bar off "$$(grep '^torch==' requirements.txt)")
	@echo "setup 3/3: the locked requirements (transformers, DVC, ONNX Runtime, the test tools, ...)"
	$(VENV)/bin/pip install --progress-bar off -r requirements-dev.txt -c requirements.lock
	@echo "setup done: $(VENV) holds $$(du -sh $(VENV) | cut -f1)"
	touch $@

setup: $(VENV)/.installed

# the whole pipeline in a few minutes: MiniLM-L6 on 1,200 rows, then the results and next steps
# DATA and MODEL reach the command through the environment, as typed: a folder name with `$`,
# quotes or spaces stays one argument
export QUICK_DATA := $(value DATA)
export QUICK_MODEL := $(value MODEL)
quick: setup
	textclf quick $(if $(value DATA),--data "$$QUICK_DATA") $(if $(value MODEL),--model "$$QUICK_MODEL")

# the notebook's run: sources checked first, then every stage, then the results
repro: setup
	textclf check
	dvc repro
	textclf results

# dvc_plots/index.html with dvc.yaml's PNG plots only: a page that renders offline (the
# interactive charts of plain `dvc plots show` load their charting library from the web)
PNG_PLOTS = $(shell sed -n 's/^  - \(metrics\/.*\.png\)$$/\1/p' dvc.yaml)
plots: setup
	dvc plots show $(PNG_PLOTS)

lint: setup
	ruff check .
	ruff format --check .

# the whole suite (what CI runs); test-fast: all but the tests that run a pipeline, a training
# or a search (their marks are declared in pyproject.toml), an answer in a few minutes
test: lint
	pytest

test-fast: lint
	pytest -m "not pipeline and not training and not search"

# speed benchmark on real AG News rows (see bench/README.md); writes bench/RESULTS.md.
# BENCH_DATA: a folder with AG-News-format train.csv and test.csv (header-less label,title,description)
BENCH_DATA ?= data/bench
bench: setup
	python bench/speed.py --data $(BENCH_DATA) --train-rows 1000 --test-rows 2000 --repeats 3 --int8

# .gpukit/: wheels, AG News rows and MiniLM for the prepared GPU check on a machine with no
# network (bench/README.md, GPU, has the one command that runs it there)
gpu-kit: setup
	python bench/gpu_kit.py --data $(BENCH_DATA)
