# Two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KURA   := $(VENV)/bin/kura
STAMP  := $(VENV)/.kura-installed
REPO   ?= .

.PHONY: setup run test bench vsix clean eval

# Re-installs only when pyproject.toml or the llama.cpp build recipe changes. llama-cpp-python is
# built portably (LLAMA_CPU, default x86-64-v3, x86-64 on CPUs without AVX2: no -march=native, no AVX-512/AMX) by
# scripts/build-llama.sh, once per machine (~6-9 min on 2 cores): its wheel is cached under a key made
# of the version and the build flags, so a build made with other flags is never reused.
export LLAMA_CPU

$(STAMP): pyproject.toml scripts/build-llama.sh
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "kura needs Python 3.11+; run e.g. 'make PYTHON=python3.12 test'"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	scripts/build-llama.sh $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
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
