# One command to run the platform, one to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Everything the platform keeps (database, secret_key, Procfile) lives under one data
# dir: ASSISTANT_DATA_DIR when set, else ./var.
DATA_DIR ?= $(or $(ASSISTANT_DATA_DIR),$(CURDIR)/var)
HOST ?= 127.0.0.1
PORT ?= 8000
export ASSISTANT_DATA_DIR := $(abspath $(DATA_DIR))

.PHONY: install run test lint format bench loadtest clean-data

install: $(VENV)/.installed

# torch is pinned first: the CPU build (plain `torch` would pull a multi-GB CUDA build).
# llama-cpp-python compiles once (about 6 minutes); pip caches the wheel afterwards. It is
# built for a portable x86-64 (AVX2) instead of -march=native: on virtual machines that
# report AMX but do not grant it, llama.cpp's native build crashes in its AMX kernels.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install 'llama-cpp-python[server]>=0.3.2'
	$(PIP) install -e '.[dev]'
	touch $@

$(DATA_DIR)/secret_key:
	mkdir -p $(DATA_DIR)
	$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

# The key connection credentials are encrypted with (connectors/crypto.py); keep it with
# the database backups: without it stored passwords and tokens cannot be read.
$(DATA_DIR)/connector_keys:
	mkdir -p $(DATA_DIR)
	$(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > $@
	chmod 600 $@

run: install $(DATA_DIR)/secret_key $(DATA_DIR)/connector_keys
	@export SECRET_KEY_FILE=$${SECRET_KEY_FILE:-$(DATA_DIR)/secret_key}; \
	$(PY) manage.py bootstrap && \
	$(PY) manage.py procfile --host $(HOST) --port $(PORT) > $(DATA_DIR)/Procfile && \
	echo "Starting on http://$(HOST):$(PORT)/ (Ctrl-C stops everything)" && \
	exec $(VENV)/bin/honcho -f $(DATA_DIR)/Procfile -d $(CURDIR) start

# Tests run on their own data dir so they never touch your conversations.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true ASSISTANT_DATA_DIR=$(CURDIR)/var/test $(VENV)/bin/mypy
	DEBUG=true ASSISTANT_DATA_DIR=$(CURDIR)/var/test $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true ASSISTANT_DATA_DIR=$(CURDIR)/var/test $(PY) -m pytest $(PYTEST_ARGS)

lint:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	DEBUG=true ASSISTANT_DATA_DIR=$(CURDIR)/var/test $(PY) manage.py bench_chat --json bench-results/chat.json

# Locust as users behave (deploy/load/locustfile.py) against uvicorn with WEB_CONCURRENCY
# workers and the scripted backend: USERS=10,50,100,200 by default, CSV and JSON in
# bench-results/load/. Results in BENCHMARKS.md ("Load test as users behave"). DEBUG off as
# in production, on its own data dir (its keys are made on first use).
USERS ?= 10,50,100,200
LOAD_DIR ?= $(CURDIR)/var/load
loadtest: install
	$(MAKE) --no-print-directory DATA_DIR=$(LOAD_DIR) $(LOAD_DIR)/secret_key $(LOAD_DIR)/connector_keys
	ASSISTANT_DATA_DIR=$(LOAD_DIR) $(PY) manage.py migrate -v 0
	ASSISTANT_DATA_DIR=$(LOAD_DIR) $(PY) manage.py loadtest --users $(USERS) --out bench-results/load
