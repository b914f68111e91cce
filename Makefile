# Tradia: every command a person or CI runs. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export TRADIA_CACHE ?= $(HOME)/.cache/tradia
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Make sure ansible finds our roles, modules and module_utils wherever it is started from.
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

MOLECULE_SCENARIOS ?= ai_server gpu_and_docker_ce default

.PHONY: help venv venv-deploy system-deps lint sanity unit containers images molecule test demo demo-down bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Two markers: `make demo` needs only the deploy set (ansible and the controller's Python deps);
# everything else (tests, lint, bench) needs the test set, the simulator and the app on top.
$(BIN)/.deploy-installed: requirements-deploy.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-deploy.txt
	touch $@

$(BIN)/.installed: $(BIN)/.deploy-installed requirements-test.txt requirements-sslyze.txt tools/ollama_sim/pyproject.toml app/pyproject.toml scripts/build-llama-wheel.sh
	$(BIN)/pip install --quiet -r requirements-test.txt
	# sslyze pins a cryptography the main venv cannot take (requirements-sslyze.txt says why)
	test -x $(VENV)/sslyze/bin/python || $(BIN)/python -m venv $(VENV)/sslyze
	$(VENV)/sslyze/bin/pip install --quiet -r requirements-sslyze.txt
	PYTHON=$(BIN)/python $(BIN)/pip install --quiet "$$(PYTHON=$(BIN)/python scripts/build-llama-wheel.sh)"
	$(BIN)/pip install --quiet -e 'tools/ollama_sim[llama,testing]'
	$(BIN)/pip install --quiet -e 'app[test]'
	touch $@

venv: $(BIN)/.installed ## .venv with the test set (requirements-test.txt), the simulator and the app

venv-deploy: $(BIN)/.deploy-installed ## .venv with only what deploying needs (requirements-deploy.txt)

system-deps: ## Debian packages the tests need (docker.io, debootstrap, chromium, LibreOffice headless); needs root
	scripts/system-deps.sh

lint: venv ## ruff, yamllint, ansible-lint (production profile), then make sanity
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || { echo "run: $(BIN)/ruff format ." >&2; exit 1; }
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint
	$(MAKE) sanity

sanity: venv-deploy ## ansible-test sanity on library/ and module_utils/, copied into a collection
	VENV=$(VENV) scripts/sanity.sh

unit: venv ## unit, contract and browser tests (no Docker needed)
	TRADIA_NO_SKIP=$${CI:+1} TRADIA_REQUIRE_LLAMA=1 $(BIN)/pytest -m "not docker" tests tools/ollama_sim/tests app/tests bench/tests

containers: venv images ## the built images: the simulator with the official client, the app beside it
	TRADIA_NO_SKIP=$${CI:+1} $(BIN)/pytest -m docker tests/images

images: ## start a Docker engine if needed and build the offline test-bed images (cached)
	scripts/docker-engine.sh
	scripts/build-images.sh

molecule: venv images ## molecule scenarios against the local test bed
	TRADIA_NO_SKIP=$${CI:+1} scripts/molecule-scenarios.sh $(MOLECULE_SCENARIOS)

test: system-deps lint unit containers molecule ## everything CI runs

demo: venv-deploy ## the whole stack in a local lab of containers; prints the URL and login, leaves it running
	scripts/demo.sh

demo-down: ## remove the lab of make demo
	scripts/demo-down.sh

bench: venv ## benchmarks -> bench/RESULTS.md (~40 min; env BENCH_PARTS=relay,users,deploy,scaleout,llama BENCH_QUICK=1; BENCH_PARTS=peers: Open WebUI beside Tradia, ~30 min, 7.6 GB); redeploys the lab
	scripts/docker-engine.sh
	$(BIN)/python -m bench

clean: ## remove the virtualenv and caches of this checkout (not the image cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache
