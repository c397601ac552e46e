# Memory Box: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app memorybox
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Test processes per pass (pytest-xdist): each has its own database (PostgreSQL: test_gw0...).
# The slowest tests are spread as they finish (worksteal). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist worksteal)
# The message catalogues, compiled (.mo, not kept in git) whenever a .po is newer.
CATALOGUES := $(wildcard memorybox/translations/*/LC_MESSAGES/messages.po)
COMPILED := memorybox/translations/.compiled

.PHONY: run test lint typecheck pytest pytest-sqlite pytest-postgres pytest-scaleout reliability-report migrate seed worker clean translations

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,redis,transcribe]"
	@if command -v npm >/dev/null; then \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && \
		mkdir -p static/vendor && cp node_modules/tus-js-client/dist/tus.min.js static/vendor/; \
	else \
		echo "npm not found: uploads will work, but will not resume after a dropped connection"; \
	fi
	touch $(STAMP)

$(COMPILED): $(STAMP) $(CATALOGUES)
	$(BIN)/python -m memorybox.catalogues compile
	touch $(COMPILED)

# After changing words: extract them into the template and bring every catalogue up to date
# (then translate what is new; docs/translations.md).
translations: $(STAMP)
	$(BIN)/python -m memorybox.catalogues extract
	$(BIN)/python -m memorybox.catalogues update

migrate: $(STAMP) $(COMPILED)
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

run: seed
	@echo ""
	@echo "Memory Box is starting on http://127.0.0.1:5000  (press Ctrl+C to stop)"
	@echo "The background worker (photos, videos, the bin) runs alongside it."
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/huey_consumer memorybox.jobs.tasks.huey --workers 2 --worker-type thread --delay 0.05 --max-delay 0.2 --quiet & worker=$$!; \
	$(FLASK) run --host 127.0.0.1 --port 5000

worker: $(STAMP) $(COMPILED)
	$(BIN)/huey_consumer memorybox.jobs.tasks.huey --workers 2 --worker-type thread --delay 0.05 --max-delay 0.2

lint: $(STAMP)
	$(BIN)/ruff check memorybox tests migrations benchmarks
	$(BIN)/ruff format --check memorybox tests migrations benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy memorybox

pytest-sqlite: $(STAMP) $(COMPILED)
	$(BIN)/python scripts/browser_check.py
	$(BIN)/pytest $(PYTEST_PARALLEL)

pytest-postgres: $(STAMP) $(COMPILED)
	@if $(BIN)/python scripts/pg_check.py "$(PG_TEST_URL)"; then \
		MEMORYBOX_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest $(PYTEST_PARALLEL); \
	elif [ -n "$$MEMORYBOX_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required here (MEMORYBOX_REQUIRE_POSTGRES) but is not reachable at $(PG_TEST_URL)"; exit 1; \
	else \
		echo "SKIPPED the PostgreSQL run: no PostgreSQL at $(PG_TEST_URL) (set PG_TEST_URL to use another)"; \
	fi

# Two web processes and two workers on PostgreSQL, Redis and SeaweedFS, with faults
# (tests/scaleout): once, not in both passes above.
pytest-scaleout: $(STAMP) $(COMPILED)
	MEMORYBOX_SCALEOUT=1 $(BIN)/pytest tests/scaleout

# The fault tests again, writing their table into docs/reliability.md.
reliability-report: $(STAMP)
	MEMORYBOX_SCALEOUT=1 MEMORYBOX_RELIABILITY_REPORT=docs/reliability.md \
		$(BIN)/pytest tests/scaleout/test_faults.py

pytest: pytest-sqlite pytest-postgres pytest-scaleout

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
