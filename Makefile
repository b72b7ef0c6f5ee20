# Every target sets itself up: a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
ARCHS := arm64 x86_64

.PHONY: demo test bench inventory estimate layer preview up clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## demo: deploy the local stack into an embedded AWS emulator, drive traffic, report flow and cost
demo: $(BIN)/.installed
	$(BIN)/python -m localcloud demo

## test: the whole test suite (what CI runs)
test: $(BIN)/.installed
	$(BIN)/python -m pytest

## bench: the benchmarks in benchmarks/, each printing its figures
bench: $(BIN)/.installed
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

## inventory: evaluate the program offline for STACK and list what it registers
inventory: $(BIN)/.installed
	$(BIN)/python -m offline $(STACK)

## estimate: monthly cost of STACK at its projected volume
estimate: $(BIN)/.installed
	$(BIN)/python -m costmodel estimate --stack $(STACK)

## layer: the consumers' dependency layer per architecture (needed by pulumi preview/up)
layer: $(BIN)/.installed
	$(BIN)/python -m offline.artifacts layer $(addprefix --arch ,$(ARCHS))

# The policy pack runs in its own virtualenv, as PulumiPolicy.yaml declares.
policy/venv/.installed: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet -r policy/requirements.txt
	touch $@

preview: layer policy/venv/.installed
	pulumi preview --stack $(STACK) --policy-pack policy

up: layer policy/venv/.installed
	pulumi up --stack $(STACK) --policy-pack policy

clean:
	rm -rf $(VENV) policy/venv build reports
