# The two commands a new user runs (see README): `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BACKEND ?= local

$(BIN)/summarizer: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,browse,local]'
	touch $@

install: $(BIN)/summarizer

demo: install
	$(BIN)/summarizer run eval/docs --db results.db --backend $(BACKEND)
	$(BIN)/summarizer eval --db results.db --gold eval/gold --markdown results/eval.md --html results/eval.html
	$(BIN)/summarizer show 001_edc70f5a27395571 --db results.db

test: install
	$(BIN)/pytest -q

.PHONY: install demo test

# Mutation testing of the core modules (about half an hour on 2 cores); writes results/mutation/summary.md.
mutate:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test,mutate]'
	$(BIN)/python -m summarizer.devtools.mutate --cap-minutes 50

.PHONY: mutate
