# One-command entry points. `make test` and `make reproduce-all` each run `make setup` first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_ROOT ?= data
# the reproductions' own folder: a user's runs (runs/<package>/...) are never touched. (No comment after a value:
# make would keep the spaces before it in the value.)
RUNS ?= runs/reproduce
PACKAGES := fer_seresnet emotic_context bodily_tsn emotionroi_ex
STAMP := $(VENV)/.installed

.PHONY: setup test lint reproduce-all report clean-runs bench gpu-check demo

setup: $(STAMP)

# compat editable mode puts the repo root on sys.path, so a package folder added later is importable too.
# Rebuilt only when the lock files or pyproject change; otherwise `make setup` is a no-op.
$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.lock
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	$(PY) -c "import shared_utils, torchvision, pytorch_grad_cam, cv2, av; print('setup ok: torch', __import__('torch').__version__, 'torchvision', torchvision.__version__)"
	touch $(STAMP)

test: setup
	REPRO_NO_PROGRESS=1 $(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check .

# Each package runs on $(DATA_ROOT)/<its dataset> when present, else on its demo dataset.
reproduce-all: setup
	@set -e; start=$$(date +%s); for pkg in $(PACKAGES); do \
	  if [ -f $$pkg/reproduce.py ]; then \
	    echo "== $$pkg"; $(PY) -m $$pkg.reproduce --data-root $(DATA_ROOT) --out $(RUNS)/$$pkg; \
	  else echo "== $$pkg: not built yet, skipped"; fi; \
	done; \
	$(PY) -m shared_utils.report $(RUNS); \
	echo "reproduce-all took $$(( $$(date +%s) - start )) s; summary in $(RUNS)/RESULTS.md"

# The faces page (fer_seresnet/app.py) with the shipped FER2013 model, on http://127.0.0.1:7860 (or the next free
# port), offline. Other pages: python -m emotic_context.app / emotionroi_ex.app / bodily_tsn.app --checkpoint FILE.
demo: setup
	$(PY) -m fer_seresnet.app

report: setup
	$(PY) -m shared_utils.report $(RUNS)

# Each package's loader and training step (random weights, the recipes' shapes; demo data in a temporary folder),
# with peak memory and the settings printed: a few minutes on 2 CPU cores. Tables per setting: the package READMEs.
bench: setup
	$(PY) -m fer_seresnet.bench --sections loader step --settings fp32 bf16+channels_last --steps 3
	$(PY) -m emotic_context.bench --persons 104 --settings fp32 bf16+channels_last --steps 1
	$(PY) -m emotionroi_ex.bench --batch-size 4 --settings fp32 bf16+channels_last --steps 1
	$(PY) -m bodily_tsn.benchmark --sections dataset step --settings fp32 bf16+channels_last --steps 1

# On a CUDA machine: every package's demo recipe with AMP off / on + channels_last, a 2-process torchrun run and
# the FER2013 full recipe, reported in $(RUNS)/gpu_check/gpu_check.md. Without CUDA it says so and exits 0.
gpu-check: setup
	$(PY) tools/gpu_check.py --out $(RUNS)/gpu_check --data-root $(DATA_ROOT)

# Removes only what reproduce-all made: package folders holding REPRODUCE_RUNS.txt, and the summary.
clean-runs:
	@for pkg in $(PACKAGES) gpu_check; do \
	  if [ -f $(RUNS)/$$pkg/REPRODUCE_RUNS.txt ]; then rm -rf $(RUNS)/$$pkg && echo "removed $(RUNS)/$$pkg"; \
	  elif [ -e $(RUNS)/$$pkg ]; then echo "kept $(RUNS)/$$pkg (no REPRODUCE_RUNS.txt: not made by reproduce-all)"; fi; \
	done; rm -f $(RUNS)/RESULTS.md
