# The two commands: `make run` and `make test`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start the whole stack on an embedded PostgreSQL, with demo clients.
run: $(STAMP)
	$(BIN)/inds up --demo

## Run the whole test suite against a real PostgreSQL (embedded unless INDS_TEST_DATABASE_URL).
test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services shared inds
	$(BIN)/lint-imports

## Measure (each scenario beside its anchor): make bench [SCENARIOS="payment_cycle ..."]
SCENARIOS ?= gateway_throughput registry_reads registry_writes sync_batch import_rate \
	export_memory dedup_quality payment_cycle funding_report dci_search
bench: $(STAMP)
	@for scenario in $(SCENARIOS); do \
		echo "== bench.$$scenario"; $(BIN)/python -m bench.$$scenario || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
