# Everything sets itself up: the first target run creates .venv/ with the pinned
# dependencies of requirements-dev.lock (the run-time ones of requirements.lock, and
# the tests' and the linter's).  Nothing else needs installing by hand.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# ASSIGNMENT=<name> grades by reference/<name>/ (its spec, reference and catalogue) in
# every target; its example submissions are submissions/<name>/, else the assignment's own
# examples folder; its outputs go to reports/<name>/ (one assignment per outputs folder).
ASSIGNMENT ?= backprop
SUBMISSIONS ?= $(wildcard submissions/$(ASSIGNMENT))
OUT ?= reports/$(ASSIGNMENT)
SUB ?=
CHECK_OUT ?= self-check
SECRET_FILE ?=
AUTOGRADER_ZIP ?= autograder.zip

.PHONY: setup test lint grade check expected mark history bench bench-peers autograder image container-test cuda-test clean

# TORCH_INDEX_URL=<index>: torch alone from that index first, for example PyTorch's CPU-only
# index (https://download.pytorch.org/whl/cpu, about 200 MB); empty (the default): from pip's
# own configuration, which on Linux is the CUDA build (several GB).  The grader works with either.
TORCH_INDEX_URL ?=
PIP_QUIET := --quiet --disable-pip-version-check

$(STAMP): requirements.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX_URL),$(PY) -m pip install $(PIP_QUIET) --no-deps --index-url "$(TORCH_INDEX_URL)" "$$(grep '^torch==' requirements.lock)")
	$(PY) -m pip install $(PIP_QUIET) -r requirements-dev.lock
	@$(PY) -c "import torch; print('torch', torch.__version__, 'installed,', 'a CUDA build' if torch.version.cuda else 'the CPU build')"
	touch $(STAMP)

setup: $(STAMP)

# Two workers (pytest-xdist), each test file whole on one of them, so that its module-scoped class
# runs once: the suite runs beside itself, as the grader must run beside another grader.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

grade: $(STAMP)
	$(PY) -m grader grade $(SUBMISSIONS) --out $(OUT) --assignment $(ASSIGNMENT)

check: $(STAMP)
	@test -n "$(SUB)" || { echo "usage: make check SUB=path/to/your_submission.py"; exit 2; }
	$(PY) -m grader check "$(SUB)" --out $(CHECK_OUT) --assignment $(ASSIGNMENT)

expected: $(STAMP)
	$(PY) -m grader expected --assignment $(ASSIGNMENT)

# The written answers of the class graded into $(OUT), marked in a browser: open the URL it prints
# (127.0.0.1 only; MARKER=name records who marks, PORT=n picks the port, NAMES=1 shows the
# students' names, which are otherwise hidden until an answer is marked).
MARKER ?=
PORT ?= 0
NAMES ?=
mark: $(STAMP)
	$(PY) -m grader mark --out $(OUT) --assignment $(ASSIGNMENT) --port $(PORT) $(if $(MARKER),--marker "$(MARKER)") $(if $(NAMES),--names)

# Every grading run of OUT's gradebook, and who moved between the last two (STUDENT=id: one student's).
STUDENT ?=
history: $(STAMP)
	$(PY) -m grader history $(STUDENT) --out $(OUT) --assignment $(ASSIGNMENT)

# Throughput: a synthetic class graded with warm workers and with fresh
# interpreters in the same run; BENCH_SIZE / BENCH_FRESH_SIZE set the class sizes,
# BENCH_ARGS passes options (e.g. --skip-checks '*-1000-*'; see --help); BASELINE=<rev>
# grades the same class with that revision's grader in the same run, alternating (auto: the
# commit before the change).  Then the cost of recording what the calls of the rules did
# (BENCH_RULES_SIZE submissions), and the shared wrong answers of a class built for them.
BENCH_ARGS ?=
BASELINE ?= auto
bench: $(STAMP)
	$(PY) bench/throughput.py --assignment $(ASSIGNMENT) --baseline $(BASELINE) $(BENCH_ARGS)
	$(PY) bench/rules_cost.py --assignment $(ASSIGNMENT)
	$(PY) bench/integrity.py

# Optional: nbgrader and otter-grader (installed into .venv-peers/) grade an
# equivalent notebook beside this grader; BENCH_PEERS_SIZE sets the count (20).
bench-peers: $(STAMP)
	$(PY) bench/peers.py

# The LMS image built by a real Docker engine from the zip, as Gradescope builds it; then the
# same image run for real, one fresh container per submission at Gradescope's limits, and the
# latency a student feels (bench/results.json, "container").  Needs docker (README).
IMAGE_TAG ?= backprop-autograder:latest
image: $(STAMP)
	$(PY) -m grader autograder-image --tag $(IMAGE_TAG) --assignment $(ASSIGNMENT) $(if $(SECRET_FILE),--secret-file $(SECRET_FILE))

container-test: $(STAMP)
	$(PY) -m pytest -m container tests/container
	$(PY) bench/container.py --assignment $(ASSIGNMENT)

# The grader with the CUDA build of torch, as a plain `pip install` gives it on Linux (about 5.5 GB
# in .venv-cuda/): check, grade with fresh interpreters and warm workers, a notebook's self-check
# and a memory hog, under the limits every build must meet.
CUDA_VENV := .venv-cuda
CUDA_TORCH ?= torch==2.14.1
$(CUDA_VENV)/.installed: requirements.lock requirements-dev.lock
	rm -rf $(CUDA_VENV)
	$(PYTHON) -m venv $(CUDA_VENV)
	{ grep -v '^torch==' requirements.lock; grep -v '^-r ' requirements-dev.lock; } > $(CUDA_VENV)/requirements.txt
	$(CUDA_VENV)/bin/python -m pip install $(PIP_QUIET) "$(CUDA_TORCH)" -r $(CUDA_VENV)/requirements.txt
	$(CUDA_VENV)/bin/python -c "import torch, sys; sys.exit(0 if torch.version.cuda else 'not a CUDA build: ' + torch.__version__)"
	touch $@

cuda-test: $(STAMP) $(CUDA_VENV)/.installed
	GRADER_CUDA_PYTHON=$(abspath $(CUDA_VENV))/bin/python $(PY) -m pytest -m cuda tests/cuda

# Gradescope: the zip to upload (README "Use with Gradescope"); SECRET_FILE=path adds the hidden-case secret
autograder: $(STAMP)
	$(PY) -m grader autograder-zip --out $(AUTOGRADER_ZIP) --assignment $(ASSIGNMENT) $(if $(SECRET_FILE),--secret-file $(SECRET_FILE))

clean:
	rm -rf $(VENV) $(CUDA_VENV) reports .pytest_cache build *.egg-info
