# The two commands a newcomer needs (see README.md). Each does its own set-up first.
.PHONY: run test lint bench setup-run setup-test

# Single-user laptop mode (PARKLIFE_AUTH=local: no sign-in, full rights). A shared deployment
# runs `.venv/bin/python serve.py` without it and creates accounts with `parklife users add`.
# serve.py is `streamlit run app.py` (same options) that loads the app's modules and the demo
# park before the port opens, so the first page after a (re)start does not wait for them.
run: setup-run
	PARKLIFE_AUTH=local .venv/bin/python serve.py

# PARKLIFE_REQUIRE_POSTGRES: the PostgreSQL store tests fail (not skip) if the cluster cannot start.
test: setup-test
	.venv/bin/ruff check .
	PARKLIFE_REQUIRE_POSTGRES=1 .venv/bin/python -m pytest

lint:
	.venv/bin/ruff check .

# Performance against peer libraries, side by side (benchmarks/README.md); ~10 minutes.
bench: setup-test
	.venv/bin/python -m pip install -q -r benchmarks/requirements-bench.txt
	.venv/bin/python benchmarks/run.py

setup-run:
	bash scripts/setup.sh run

setup-test:
	bash scripts/setup.sh test
