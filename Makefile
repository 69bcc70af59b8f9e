# DesiDeliver: `make dev` runs the service, `make test` runs every check. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
DEV_DIR := .dev
DEV_PG_PORT ?= 54320
DEV_REDIS_PORT ?= 63790
# Poetry 1.8 writes the lock poetry2nix reads; it is installed next to the project if absent.
POETRY ?= $(shell command -v poetry 2>/dev/null || echo $(DEV_DIR)/poetry/bin/poetry)

# Inside `nix develop` the active Python already has everything; elsewhere, the project's .venv.
ifeq ($(shell python3 -c 'import django, desideliver' 2>/dev/null && echo yes),yes)
PYTHON := python3
DEPS :=
else
PYTHON := $(VENV)/bin/python
DEPS := $(VENV)/.installed
endif

# PostgreSQL refuses to run as root: as root, the dev cluster belongs to the `postgres` user.
AS_POSTGRES := $(if $(filter 0,$(shell id -u)),runuser -u postgres --,)

.PHONY: help dev test lint

help:
	@echo "make dev   - run the API on http://127.0.0.1:8000 with its own PostgreSQL and Redis"
	@echo "make test  - every check: ruff, mypy, the test suite (real PostgreSQL and Redis)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t- /' | sort

$(DEV_DIR)/poetry/bin/poetry:
	python3 -m venv $(DEV_DIR)/poetry
	$(DEV_DIR)/poetry/bin/pip install -q 'poetry==1.8.*'

$(VENV)/.installed: pyproject.toml poetry.lock | $(POETRY)
	@command -v pg_config >/dev/null || { echo "psycopg's C extension needs pg_config: apt install libpq-dev (or use nix develop)"; exit 1; }
	python3 -m venv $(VENV)
	$(POETRY) export --with dev -f requirements.txt -o $(VENV)/requirements.txt
	$(VENV)/bin/pip install -q --require-hashes -r $(VENV)/requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

dev: $(DEPS) ## (see above)
	@set -euo pipefail; \
	pgbin=$$(dirname "$$($(PYTHON) -c 'from tests.servers import find_pg_ctl; print(find_pg_ctl())')"); \
	redis=$$($(PYTHON) -c 'from tests.servers import find_redis_server; print(find_redis_server())'); \
	mkdir -p $(DEV_DIR)/postgres; dev=$$(cd $(DEV_DIR) && pwd); \
	if [ -n "$(AS_POSTGRES)" ]; then chown postgres: $$dev/postgres; fi; \
	if [ ! -f $$dev/postgres/PG_VERSION ]; then \
	  $(AS_POSTGRES) $$pgbin/initdb -D $$dev/postgres -U postgres -A trust --no-sync >/dev/null; fi; \
	$(AS_POSTGRES) $$pgbin/pg_ctl -D $$dev/postgres -w -l $$dev/postgres/server.log \
	  -o "-p $(DEV_PG_PORT) -k $$dev/postgres -c listen_addresses=127.0.0.1" start >/dev/null; \
	trap '$(AS_POSTGRES) $$pgbin/pg_ctl -D $$dev/postgres -m fast stop >/dev/null; kill $$(cat $$dev/redis.pid) 2>/dev/null; echo "stopped PostgreSQL and Redis"' EXIT; \
	$$redis --port $(DEV_REDIS_PORT) --bind 127.0.0.1 --dir $$dev --save "" --appendonly no \
	  --daemonize yes --pidfile $$dev/redis.pid --logfile $$dev/redis.log; \
	$$pgbin/psql -qAt -h 127.0.0.1 -p $(DEV_PG_PORT) -U postgres -c "SELECT 1 FROM pg_database WHERE datname = 'desideliver'" | grep -q 1 \
	  || $$pgbin/createdb -h 127.0.0.1 -p $(DEV_PG_PORT) -U postgres desideliver; \
	export DJANGO_SETTINGS_MODULE=desideliver.settings.local \
	  DATABASE_URL=postgres://postgres@127.0.0.1:$(DEV_PG_PORT)/desideliver REDIS_URL=redis://127.0.0.1:$(DEV_REDIS_PORT)/0; \
	$(PYTHON) -m desideliver manage migrate --noinput; \
	$(PYTHON) -m desideliver manage seed_demo; \
	echo "DesiDeliver on http://127.0.0.1:8000 (Ctrl-C stops the server, PostgreSQL and Redis)"; \
	$(PYTHON) -m desideliver manage runserver 127.0.0.1:8000 || true

lint: $(DEPS) ## ruff (lint and format) and mypy
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

test: lint ## every check; the last line is pytest's summary
	$(PYTHON) -m pytest

# --- compose: start
# --- compose: end
