# One entry point for people and CI. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.bench-installed

.PHONY: install run test lint typecheck imports pytest bench faults crash sweep migrate clean

# pip's own progress (a bar on a terminal, one line a package in CI logs): the first install takes about a minute.
$(INSTALLED): pyproject.toml
	@echo "installing dependencies into $(VENV) (first run only, about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[embedded,dev]'
	@echo "dependencies installed in $(VENV)"
	touch $@

install: $(INSTALLED)

$(BENCH_INSTALLED): $(INSTALLED)
	@echo "installing the benchmark's dependencies into $(VENV) (first bench only)..."
	$(BIN)/python -m pip install --progress-bar on -e '.[embedded,dev,bench]'
	touch $@

run: install
	$(BIN)/python -m entrypoints

test: install lint typecheck imports pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

imports:
	$(BIN)/lint-imports

pytest:
	$(BIN)/pytest

# Not part of `make test`: about 10 minutes (2.5 of them counting instructions under valgrind),
# figures in bench/results/ (summary.md is committed).
bench: $(BENCH_INSTALLED)
	$(BIN)/python -m bench

# Retry every queued provider-room deletion once (same settings as `make run`); exit 0 when none is left.
sweep: install
	$(BIN)/python -m entrypoints sweep

# Upgrade, in place, what the original Node service stored (safe while the service runs on a shared MongoDB);
# `make migrate ARGS=--dry-run` only reports. Exit 0 when nothing is left to upgrade.
migrate: install
	$(BIN)/python -m entrypoints migrate $(ARGS)

# The service under provider faults at full size (`pytest` runs a small one): no 5xx but 502/503, no orphan.
faults: install
	$(BIN)/python -m tests.faults.run --operations 1000 --failure-rate 0.3 --seed 1

# The service and its embedded store killed with SIGKILL 20 times under a workload (`pytest` runs 2 kills), then
# one sweep: no confirmed write lost, no orphaned room, no dangling room id. About two to three minutes.
crash: install
	$(BIN)/python -m tests.crash.run --kills 20 --seed 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
