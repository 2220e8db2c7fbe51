# Two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KURA   := $(VENV)/bin/kura
STAMP  := $(VENV)/.kura-installed
REPO   ?= .

.PHONY: setup run test bench vsix clean eval

# Re-installs only when pyproject.toml changes; pip's wheel cache keeps llama-cpp-python's
# from-source build (~6 min on 2 cores) to the first time on a machine.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "kura needs Python 3.11+; run e.g. 'make PYTHON=python3.12 test'"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

setup: $(STAMP)

# Indexes REPO, then opens Neovim on it with the kura plugin (without a terminal: prints the command
# and runs a headless smoke check instead).
run: $(STAMP)
	REPO=$(abspath $(REPO)) scripts/run-neovim.sh

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/index_bench.py $(REPO)

# Model evaluation demo: a set from a copy of indexer/, the embedded model and a tiny GGUF, the
# report in the terminal and artifacts/eval/report.html (a few minutes on 2 cores).
eval: $(STAMP)
	$(PY) benchmarks/eval_demo.py

vsix:
	$(MAKE) -C editors/vscode vsix

clean:
	rm -rf $(VENV) build *.egg-info
