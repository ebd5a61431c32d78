# The two commands of the README: `make serve` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup serve test bench

# (Re)install when pyproject.toml changes; the stamp is newer than pyproject.toml once installed.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

serve: setup
	$(BIN)/meldpunt serve

test: setup
	bash scripts/test-deps
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/dialogue_turns.py
	$(BIN)/python bench/mail_intake.py
	$(BIN)/python bench/telegram_turns.py
	$(BIN)/python bench/dispatch.py
