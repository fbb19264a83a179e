# The two commands the README opens with: `make demo` and `make test`.
# `make run` starts the API, a worker and the SMS simulator, wired together, for trying it by hand.
.PHONY: setup demo run test lint typecheck importlint pytest bench

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

bench: setup
	$(VENV)/python -m benchmarks.run
