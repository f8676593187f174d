.PHONY: setup test lint bench constraints
PYTHON ?= python3

setup:
	PYTHON=$(PYTHON) bash scripts/setup.sh

test:
	$(PYTHON) -m ruff check src tests bench scripts
	$(PYTHON) -m pytest -q

bench:
	$(PYTHON) bench/throughput.py

# After a deliberate upgrade: pin what is installed now (commit constraints.txt with it).
constraints:
	$(PYTHON) scripts/constraints.py
