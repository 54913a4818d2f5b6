# `make deck` and `make test` set up everything they need from nothing (a fresh clone on a
# fresh machine): a virtualenv with the pinned packages, MathJax from npm, and for the browser
# tests Debian's Chromium.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
# The real Anki desktop test (tests/real_anki.py) runs aqt under Xvfb: these X libraries are what
# PyQt6's libqxcb.so needs beyond a bare Debian (anki-facts.md).
ANKI_DESKTOP_PACKAGES := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 \
  libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libnss3
XVFB_RUN := /usr/bin/xvfb-run

.PHONY: deck test lint lint-report setup check preview figures bench clean
.DEFAULT_GOAL := deck

deck: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/mathdeck build

test: setup lint
	$(BIN)/python -m pytest

# Lint, format and types first: seconds, where the tests take minutes. pyproject.toml holds the
# configuration (and why cards/ and figures/ are left out).
lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# What `make lint` still finds, per file (a to-do list; always exits 0).
lint-report: $(PY_STAMP)
	.ci/lint-report

setup: $(PY_STAMP) $(NODE_STAMP) $(CHROMIUM) $(XVFB_RUN)

check: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/mathdeck check

figures: $(PY_STAMP)
	$(BIN)/mathdeck figures

preview: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/mathdeck preview

bench: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/mathdeck bench

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned (==2.13.0, a CPU build on this machine's disk): a newer one pulls GBs of CUDA.
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-wqy-zenhei >/dev/null; \
	else \
	  echo "Chromium is missing: run 'sudo apt-get install chromium' (the browser tests need /usr/bin/chromium)"; exit 1; \
	fi

$(XVFB_RUN):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(ANKI_DESKTOP_PACKAGES) >/dev/null; \
	else \
	  echo "Xvfb is missing: run 'sudo apt-get install $(ANKI_DESKTOP_PACKAGES)' (the real Anki desktop test needs them)"; exit 1; \
	fi

clean:
	rm -rf $(VENV) node_modules .cache dist/*.apkg
