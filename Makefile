.PHONY: setup test lint bench
PYTHON ?= python3

setup:
	PYTHON=$(PYTHON) bash scripts/setup.sh

test:
	$(PYTHON) -m ruff check src tests bench
	$(PYTHON) -m pytest -q

bench:
	$(PYTHON) bench/throughput.py
