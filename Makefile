# Two commands on a fresh machine: `make sandbox` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: sandbox test lint unit crds bench bench-load clean lock iam-policy promtool node-clients

# The runtime dependencies are installed at the versions the image ships (requirements.lock).
# The test bed (operator/upskill_sandbox, the upskill-sandbox command) is a project of its own, bed/pyproject.toml.
$(STAMP): pyproject.toml bed/pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]' -e ./bed
	touch $(STAMP)

sandbox: $(STAMP)  ## Run the whole stack on emulators until Ctrl-C (ARGS=--once to exit when Ready)
	$(BIN)/upskill-sandbox $(ARGS)

test: $(STAMP) lint promtool node-clients  ## Lint, then the whole suite (unit, emulator end-to-end, kind when Docker works)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

lint: $(STAMP)  ## ruff, mypy, import-linter and the CRD staleness check
	$(BIN)/ruff check operator tests bench
	$(BIN)/ruff format --check operator tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/upskill-operator crds --check
	$(BIN)/python -m upskill_operator.generate.iam_policy --check manifests/iam/policy.json

# promtool (Debian's prometheus package) checks and unit-tests the alerting rules. Installed when we
# may (CI runs as root); without it those tests skip and say why.
promtool:
	@command -v promtool >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) ; } \
	  || echo "promtool is not available: the Prometheus rule tests will be skipped"

# The real clients (BetterAuth, Kysely, node-pg, AWS SDK) of tests/e2e/test_app_clients.py: `npm ci` once per
# lockfile change. Without node and npm those tests skip and say why.
NODE_STAMP := tests/clients/node_modules/.installed
$(NODE_STAMP): tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --no-audit --no-fund
	touch $@

node-clients:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(NODE_STAMP); \
	  else echo "node or npm is not installed: the real-client tests (tests/e2e/test_app_clients.py) will be skipped"; fi

lock: $(STAMP)  ## Re-pin requirements.lock (the image's runtime dependencies) from the venv
	$(BIN)/python tests/delivery/lockfile.py

iam-policy: $(STAMP)  ## Regenerate manifests/iam/policy.json from the AWS façades
	$(BIN)/python -m upskill_operator.generate.iam_policy --write manifests/iam/policy.json

unit: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

crds: $(STAMP)  ## Regenerate crds/ from the models
	$(BIN)/upskill-operator crds

bench: $(STAMP)  ## Every benchmark, then one summary table of each figure against its target
	rm -f .bench/figures.json
	$(BIN)/python bench/tables.py
	$(BIN)/python bench/probes.py
	$(BIN)/python bench/proxy_path.py
	$(BIN)/python bench/secret_sync.py
	$(BIN)/python bench/databases.py
	$(BIN)/python bench/faults.py
	$(BIN)/python bench/stuck_recovery.py
	$(BIN)/python bench/load.py --quick
	$(BIN)/python bench/steady.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/summary.py

bench-load: $(STAMP)  ## The promised scale: 1,000 tables, 200 databases, 300 secrets (about 7 minutes)
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .venv-image-test .sandbox .pytest_cache .mypy_cache .ruff_cache
