# The two commands the README opens with: `make demo` and `make test`; `make test-fast` while working.
# `make run` starts the API, a worker and the SMS simulator, wired together, for trying it by hand.
.PHONY: setup demo run test test-fast lint typecheck importlint pytest bench

VENV := .venv/bin
export DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/nvr

setup:
	@scripts/setup

demo: setup
	$(VENV)/nvr demo

run: setup
	$(VENV)/nvr dev

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck:
	$(VENV)/mypy app workers geo alerts simulator tools cli

importlint:
	$(VENV)/lint-imports

pytest:
	$(VENV)/pytest -q

test: setup lint typecheck importlint pytest

# Everything but the end-to-end, browser and slow tests (real processes and browsers take minutes), on two
# pytest-xdist workers, each with its own test database and Redis database (tests/conftest.py).
test-fast: lint typecheck importlint
	$(VENV)/pytest -q -n 2 -m "not slow" --ignore=tests/e2e --ignore=tests/browser

bench: setup
	$(VENV)/python -m benchmarks.run
