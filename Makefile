# Steward: the commands a newcomer needs.
#   make demo        create the environment, start the warehouse, seed it, run the nightly DAG
#   make test        lint (ruff, sqlfluff) and run the whole test suite on real PostgreSQL,
#                    in TEST_WORKERS parallel processes (pytest-xdist, one test file per worker)
#   make test-unit   the fast tests only (tests/unit: no dbt, no Airflow run), in seconds

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= s
SEED ?= 42
PYTEST_ARGS ?=
# Parallel test processes: each gets its own databases and Airflow home; a test
# file stays on one worker (--dist loadfile) so its module fixtures are built once.
# Files are handed out in collection order, longest first (tests/conftest.py), not
# by xdist's default of most tests first, which left the Celery nightly for the end.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: demo test test-unit lint install browser clean
# apt-get needs root; elsewhere sudo asks for it.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install whenever the package definition or the lock changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/steward demo --scale $(SCALE) --seed $(SEED)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project --processes 0  # 0: one process per core

# The dashboard's end-to-end test drives Debian's Chromium through ChromeDriver.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "Installing Chromium and ChromeDriver for the dashboard's browser test"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

test: lint browser
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest tests/unit -n $(TEST_WORKERS) $(PYTEST_ARGS)

clean:
	-$(BIN)/steward warehouse down
	rm -rf .steward .airflow dbt_project/target dbt_project/logs
