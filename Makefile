# The two commands of the README: `make serve` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup serve lint test bench constraints

# (Re)install when pyproject.toml or the constraints change. constraints.txt pins the versions the
# tests ran with (none below a known vulnerability); `make constraints` writes it anew after an upgrade.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# The trial install (no meldpunt.env, no relay): mail we send is filed in var/maildir to read, chosen here on
# purpose (MELDPUNT_OUTBOX=maildir); without that choice `meldpunt serve` sends nothing anywhere. A real install
# configures its relay in meldpunt.env and gets no such default.
serve: setup
	$(if $(wildcard meldpunt.env)$(MELDPUNT_SMTP_RELAY),,MELDPUNT_OUTBOX=$${MELDPUNT_OUTBOX:-maildir}) $(BIN)/meldpunt serve

# Lint and types before the tests: ruff reads every Python file, mypy the packages (settings in pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	bash scripts/test-deps
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/dialogue_turns.py
	$(BIN)/python bench/mail_intake.py
	$(BIN)/python bench/telegram_turns.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/report.py

constraints:
	$(PYTHON) -m venv /tmp/meldpunt-constraints && /tmp/meldpunt-constraints/bin/pip install --quiet --upgrade pip
	/tmp/meldpunt-constraints/bin/pip install --quiet -e '.[test]'
	/tmp/meldpunt-constraints/bin/pip freeze --exclude-editable | grep -v '^#' > constraints.txt
