# Two commands on a fresh machine: `make sandbox` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: sandbox test lint unit crds bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

sandbox: $(STAMP)  ## Run the whole stack on emulators until Ctrl-C (ARGS=--once to exit when Ready)
	$(BIN)/upskill-operator sandbox $(ARGS)

test: $(STAMP) lint  ## Lint, then the whole suite (unit, emulator end-to-end, kind when Docker works)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

lint: $(STAMP)  ## ruff, mypy, import-linter and the CRD staleness check
	$(BIN)/ruff check operator tests bench
	$(BIN)/ruff format --check operator tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/upskill-operator crds --check

unit: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

crds: $(STAMP)  ## Regenerate crds/ from the models
	$(BIN)/upskill-operator crds

bench: $(STAMP)
	$(BIN)/python bench/tables.py

clean:
	rm -rf $(VENV) .sandbox .pytest_cache .mypy_cache .ruff_cache
