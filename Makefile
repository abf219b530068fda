# Unity: one target per task. `make run` and `make test` are the two that matter.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BACKEND  := backend
FRONTEND := frontend
VENV     := $(BACKEND)/.venv
PY       := $(abspath $(VENV))/bin/python
LOCK     := $(BACKEND)/requirements-dev.lock
COMPOSE  ?= docker compose

.PHONY: help venv run dev test test-quick test-backend test-frontend test-e2e test-compose lint format audit \
        migrate openapi check-openapi frontend-build bench env up down logs backup restore \
        rotate-key clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# --- environment ---------------------------------------------------------------------------
$(VENV)/.installed: $(LOCK) $(BACKEND)/pyproject.toml
	@test -x $(PY) || python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	@if command -v uv >/dev/null; then uv pip install -q --python $(PY) -r $(LOCK); \
	 else $(PY) -m pip install -q --disable-pip-version-check -r $(LOCK); fi
	@touch $@

venv: $(VENV)/.installed ## create backend/.venv from the lock file

$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $@

frontend-build: $(FRONTEND)/node_modules/.installed ## build the SPA into frontend/dist
	cd $(FRONTEND) && npm run build

# --- running -------------------------------------------------------------------------------
run: venv ## fresh machine to a running server on :8000 (SQLite unless DATABASE_URL is set)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory frontend-build; \
	 else echo "npm not found: serving the API only (install Node 20 for the UI)"; fi
	cd $(BACKEND) && $(PY) -m app serve

dev: venv ## backend with auto-reload on :8000 (run `cd frontend && npm run dev` for the UI on :5173)
	cd $(BACKEND) && DEBUG=true LOG_LEVEL=debug $(PY) -m app serve --reload

migrate: venv ## upgrade the database schema (DATABASE_URL or the SQLite default)
	cd $(BACKEND) && $(PY) -m app migrate

rotate-key: venv ## re-encrypt stored credentials under the first key in ENCRYPTION_KEY
	cd $(BACKEND) && $(PY) -m app rotate-key

# --- quality -------------------------------------------------------------------------------
test: test-backend test-frontend test-e2e ## every test: backend (PostgreSQL + SQLite), UI, browser
	@if [ "$$CI" = "true" ] || docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory test-compose; \
	 else echo "test-compose: no Docker engine reachable, skipped (runs in CI)"; fi

test-quick: venv ## inner loop: backend on SQLite only, no browser, compose, Docker, PostgreSQL or `slow` tests
	cd $(BACKEND) && $(PY) -m pytest -q -p no:cacheprovider --ignore=tests/deploy \
	  --ignore=tests/plugins/test_docker.py \
	  -m "not slow and not postgres" -k "not postgresql" $(PYTEST_ARGS)

test-backend: venv $(FRONTEND)/node_modules/.installed ## backend tests (pytest) on PostgreSQL and SQLite (the SSO tests run the npm oidc-provider)
	cd $(BACKEND) && $(PY) -m pytest $(PYTEST_ARGS)

test-frontend: $(FRONTEND)/node_modules/.installed ## Vitest and the API-types drift check
	cd $(FRONTEND) && npm run check:api && npm test

test-e2e: venv $(FRONTEND)/node_modules/.installed ## Playwright in Chromium through nginx.conf
	cd $(FRONTEND) && npm run build && npm run test:e2e

test-compose: ## docker-compose up of the shipped stack, checked through its ports
	bash scripts/test-compose.sh

lint: venv $(FRONTEND)/node_modules/.installed ## ruff, mypy (strict), bandit; tsc and ESLint on the frontend
	cd $(BACKEND) && $(PY) -m ruff check . && $(PY) -m ruff format --check . \
	  && $(PY) -m mypy && $(PY) -m bandit -q -c pyproject.toml -r app
	cd $(FRONTEND) && npm run lint

audit: venv ## known vulnerabilities in the locked dependencies (needs the network)
	$(PY) scripts/audit.py

format: venv ## apply ruff's formatting and safe fixes
	cd $(BACKEND) && $(PY) -m ruff check --fix . && $(PY) -m ruff format .

openapi: venv ## regenerate frontend/openapi.json and the typed client from the backend
	cd $(BACKEND) && $(PY) -m app.openapi > ../$(FRONTEND)/openapi.json
	cd $(FRONTEND) && npm run gen:api

bench: venv ## benchmarks (see docs/BENCHMARKS.md)
	cd $(BACKEND) && for b in ../bench/bench_*.py; do $(PY) "$$b" || exit 1; done

# --- deployment ----------------------------------------------------------------------------
env: ## write .env with freshly generated secrets (keeps an existing one; = bash scripts/make-env.sh)
	@bash scripts/make-env.sh

up: ## docker-compose up -d (production stack)
	$(COMPOSE) up -d --build

down: ## stop the stack (data volumes are kept)
	$(COMPOSE) down

logs: ## follow the stack's logs
	$(COMPOSE) logs -f --tail=100

backup: ## back up the database into ./backups (pg_dump from the db container, or the SQLite file)
	@bash scripts/backup.sh backup

restore: ## restore FILE=backups/<file> into the database
	@bash scripts/backup.sh restore "$(FILE)"

clean: ## remove build and test leftovers (keeps data/)
	rm -rf $(FRONTEND)/dist $(FRONTEND)/test-results $(BACKEND)/.pytest_cache $(BACKEND)/.mypy_cache
