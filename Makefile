# make run  — set up .venv, migrate, load demo data, serve on http://127.0.0.1:8000
# make test — set up .venv and run the whole suite
# make mutants — mutation testing of the core modules (slow; docs/testing.md)
# Embedded default: SQLite in the project and Celery tasks in-process. DATABASE_URL and
# REDIS_URL select PostgreSQL and Redis (see README.md).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint setup clean mutants

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; run make PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev]"
	@touch $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	@echo ""
	@echo "  Health code page:  http://127.0.0.1:8000/code/"
	@echo "  Register:          http://127.0.0.1:8000/register/"
	@echo "  Admin:             http://127.0.0.1:8000/admin/"
	@echo "  API docs:          http://127.0.0.1:8000/api/v1/docs/"
	@echo ""
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:8000

# The suite needs a SECRET_KEY and an assertion key with DEBUG off (as in production); these
# are for tests only.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-make-test-only-secret-key-7c1d0e8f2a9b4c3d5e6f7a8b9c0d1e2f3a4b} \
	HEALTHCODE_ASSERTION_KEY=$${HEALTHCODE_ASSERTION_KEY:-8mgo8cop0ZYJg9/p76eaIT0RWSI2Yy4T4cI4LI+P/DU=} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-testserver,localhost,127.0.0.1} SECURE_SSL_REDIRECT=0

test: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Mutation testing on SQLite ([tool.mutmut] in pyproject.toml says what and with which tests).
# MUTANTS selects mutants by name, e.g. MUTANTS='healthcode.engine.*'; results are kept in
# mutants/ between runs (rm -rf mutants to start over). Prints the score per module.
# MUTANTS_DATABASE_URL runs them on PostgreSQL instead (one child: the children would share
# one test database), for code that only runs there (docs/testing.md).
MUTANT_CHILDREN ?= 2
mutants: $(STAMP)
	$(TEST_ENV) DATABASE_URL=$(MUTANTS_DATABASE_URL) REDIS_URL= $(VENV)/bin/mutmut run \
	  --max-children $(if $(MUTANTS_DATABASE_URL),1,$(MUTANT_CHILDREN)) $(MUTANTS)
	$(PY) tools/mutation_scores.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
