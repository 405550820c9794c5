# The two commands a newcomer needs (see README.md). Each does its own set-up first.
.PHONY: run test lint setup-run setup-test

run: setup-run
	.venv/bin/streamlit run app.py

test: setup-test
	.venv/bin/ruff check .
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check .

setup-run:
	bash scripts/setup.sh run

setup-test:
	bash scripts/setup.sh test
