# Nefos entry points. `make demo` runs the portal on this machine; `make test` checks the code.
# Both set up what they need first (idempotent: scripts/setup.sh skips what is up to date).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv/bin
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-m 'not browser' -x"`.
PYTEST_ARGS ?=

.PHONY: help demo setup assets test bench conformance lab-test clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

demo: ## Set up, then run web + Celery worker + beat in the foreground (PORTAL_PORT, PORTAL_DATA_DIR)
	@scripts/setup.sh
	@exec $(VENV)/python scripts/demo.py

setup: ## Set up only: system packages (as root), .venv, node_modules, migrations, admin account
	@scripts/setup.sh
	@$(VENV)/python scripts/demo.py --prepare-only

assets: ## Install the pinned front-end packages (Bootstrap, htmx) into node_modules
	@scripts/setup.sh system assets

test: ## ruff check, ruff format --check, then pytest with a temporary PORTAL_DATA_DIR
	@scripts/setup.sh system venv assets
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	@tmp=$$(mktemp -d -t nefos-test.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "PORTAL_DATA_DIR=$$tmp $(VENV)/pytest $(PYTEST_ARGS)"; \
	  PORTAL_DATA_DIR=$$tmp $(VENV)/pytest $(PYTEST_ARGS)

bench: ## Run every bench/bench_*.py (PostgreSQL at 127.0.0.1:5432 when reachable and DATABASE_URL is unset)
	@scripts/setup.sh venv
	@scripts/bench.sh

conformance: ## Run the upstream conformance suites (scripts/conformance.sh)
	@scripts/setup.sh venv
	@scripts/conformance.sh

lab-test: ## Build the Ganeti lab (cluster A: 2 nodes, B: 1; root), run `pytest -m ganeti`, tear it down
	@scripts/setup.sh venv
	@lab=$$(mktemp -d -t nefos-lab.XXXXXX); trap 'python3 scripts/lab/ganeti_lab.py down --dir "$$lab"' EXIT; \
	  python3 scripts/lab/ganeti_lab.py up --dir "$$lab" --a-nodes 2 --b-nodes 1; \
	  NEFOS_LAB_RAPI="$$lab/rapi.json" $(VENV)/pytest -m ganeti tests/backend_ganeti tests/compute_volume tests/compute $(PYTEST_ARGS)

clean: ## Remove caches and node_modules (keeps .venv and the data in var/)
	rm -rf .pytest_cache .ruff_cache node_modules build
	find . \( -path './.venv*' -o -path ./.git -o -path ./var \) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean ## Also remove .venv (the data in var/ is never removed by make: rm -rf var to reset it)
	rm -rf .venv
