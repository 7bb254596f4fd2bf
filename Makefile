# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Where the demo's simulated vendor clouds listen (see simulator/README.md).
SIM_HOST := 127.0.0.1
SIM_PORT := 8900
SIM_URL  := http://$(SIM_HOST):$(SIM_PORT)

.PHONY: run test lint format check-deploy clean-data

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# Re-install only when the pinned requirements change (keeps re-runs fast).
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $(VENV)/.runtime-installed $@

## make run: set up and start the dashboard with the cloud simulator (demo mode).
run: export DEBUG := true
run: export QIHOO360_API_URL := $(SIM_URL)
run: export QIHOO360_CONFIG_URL := $(SIM_URL)
run: export MAMMOTION_USER_URL := $(SIM_URL)
run: export MAMMOTION_AUTH_URL := $(SIM_URL)
run: export MAMMOTION_OPEN_API_URL := $(SIM_URL)
run: export QIHOO360_PUSH_ADDR := $(SIM_HOST):18443
run: export SIMULATOR_PORT := $(SIM_PORT)
run: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py demo_setup
	$(BIN)/honcho start -f Procfile

## make test: install the test requirements and run the whole suite.
## With DATABASE_URL and REDIS_URL set it runs against Postgres and Redis.
test: export DEBUG := true
test: export DATA_DIR ?= $(CURDIR)/data/test
test: $(VENV)/.dev-installed
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-data:
	rm -rf data

## make bench: the sync, page and command benchmarks of bench/, each against a baseline
## measured in the same run (figures in bench/RESULTS.md). Needs the local Postgres and
## Redis (docs/stack.md).
.PHONY: bench
bench: $(VENV)/.runtime-installed
	@for db in sqlite postgres; do \
	  for name in import_history incremental_sync pages command_overhead; do \
	    $(BIN)/python -m bench.$$name --db $$db || exit 1; \
	  done; \
	done
	$(BIN)/python -m bench.many_accounts
