# The two commands: `make run` and `make test`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench soak fuzz clean

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

## Hostile input, longer than CI's run: 50 requests per operation and role, a new seed each
## time (the test prints it; INDS_FUZZ_SEED=<it> repeats a run): make fuzz [INDS_FUZZ_EXAMPLES=200]
INDS_FUZZ_EXAMPLES ?= 50
fuzz: $(STAMP)
	INDS_FUZZ_EXAMPLES=$(INDS_FUZZ_EXAMPLES) INDS_FUZZ_SEED=$${INDS_FUZZ_SEED:-$$(date +%s)} \
		$(BIN)/pytest tests/reliability/test_5_hostile_input.py -s -p no:cacheprovider \
		-o timeout=0 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services shared inds
	$(BIN)/lint-imports

## Measure, each figure beside its anchor, on one freshly seeded registry; one table and
## bench/results.json: make bench [SCENARIO ...] [SCENARIOS="..."] [BENCH_ARGS="--households 20000"]
BENCH_NAMES := $(filter-out bench,$(MAKECMDGOALS))
bench: $(STAMP)
	$(BIN)/python -m bench $(SCENARIOS) $(BENCH_NAMES) $(BENCH_ARGS)

# `make bench sync_batch`: the names after `bench` are scenarios, not targets.
ifeq (bench,$(firstword $(MAKECMDGOALS)))
$(BENCH_NAMES):
	@:
endif

## A steady mixed load through the gateway for 10 minutes, on a stack of its own: no error,
## the p95 of the last minute against the first, each process's memory (bench/soak.py):
## make soak [SOAK_ARGS="--seconds 180 --window 30"]
soak: $(STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
