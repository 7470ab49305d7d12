# Two commands matter: `make demo` and `make test`. Both set up the environment first.
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export SPARK_LOCAL_IP := 127.0.0.1

.PHONY: demo test env browser node lint bench docs clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The environment is rebuilt whenever the lock file changes.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras --all-groups --python $(PYTHON)
	touch $@

env: $(VENV)/.synced

# Real parts for the tests, from Debian: Chromium for web pages (driven by Playwright, no browser
# download) and PostgreSQL for the survey store (each test run starts its own server on loopback).
browser:
	@test -x /usr/bin/chromium && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium postgresql)

# axe-core for the accessibility tests, from the npm registry at the version package-lock.json pins
# (node and npm from Debian when missing, as root, as on CI).
node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends nodejs npm)
	npm ci --no-audit --no-fund
	touch $@

demo: env browser
	$(VENV)/bin/joinedup demo --out out/demo

# Tests run in parallel (pytest-xdist), each file on one worker (its module fixtures built once): two
# workers, the count the whole suite was checked with (each worker starts its own Spark session and
# browser, so more workers need more memory). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: env browser node
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=40

lint: env
	$(VENV)/bin/ruff check src tests benchmarks

docs: env
	$(VENV)/bin/joinedup docs --out docs

bench: env
	$(VENV)/bin/python benchmarks/simulate_throughput.py
	$(VENV)/bin/python benchmarks/indicators_benchmark.py

clean:
	rm -rf $(VENV) $(TOOLS) out
