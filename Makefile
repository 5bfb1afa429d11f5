# Everything sets itself up: the first target run creates .venv/ with the pinned
# dependencies of requirements.lock.  Nothing else needs installing by hand.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# ASSIGNMENT=<name> grades by reference/<name>/ (its spec, reference and catalogue) in
# every target; its example submissions are submissions/<name>/.
ASSIGNMENT ?= backprop
SUBMISSIONS ?= submissions/$(ASSIGNMENT)
OUT ?= reports
SUB ?=
CHECK_OUT ?= self-check
SECRET_FILE ?=
AUTOGRADER_ZIP ?= autograder.zip

.PHONY: setup test lint grade check expected mark bench bench-peers autograder clean

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .

grade: $(STAMP)
	$(PY) -m grader grade $(SUBMISSIONS) --out $(OUT) --assignment $(ASSIGNMENT)

check: $(STAMP)
	@test -n "$(SUB)" || { echo "usage: make check SUB=path/to/your_submission.py"; exit 2; }
	$(PY) -m grader check "$(SUB)" --out $(CHECK_OUT) --assignment $(ASSIGNMENT)

expected: $(STAMP)
	$(PY) -m grader expected --assignment $(ASSIGNMENT)

# The written answers of the class graded into $(OUT), marked in a browser: open the URL it prints
# (127.0.0.1 only; MARKER=name records who marks, PORT=n picks the port).
MARKER ?=
PORT ?= 0
mark: $(STAMP)
	$(PY) -m grader mark --out $(OUT) --assignment $(ASSIGNMENT) --port $(PORT) $(if $(MARKER),--marker "$(MARKER)")

# Throughput: a synthetic class graded with warm workers and with fresh
# interpreters in the same run; BENCH_SIZE / BENCH_FRESH_SIZE set the class sizes,
# BENCH_ARGS passes options (e.g. --skip-checks '*-1000-*'; see --help).  Then the
# cost of recording what the calls of the rules did (BENCH_RULES_SIZE submissions).
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) bench/throughput.py --assignment $(ASSIGNMENT) $(BENCH_ARGS)
	$(PY) bench/rules_cost.py --assignment $(ASSIGNMENT)

# Optional: nbgrader and otter-grader (installed into .venv-peers/) grade an
# equivalent notebook beside this grader; BENCH_PEERS_SIZE sets the count (5).
bench-peers: $(STAMP)
	$(PY) bench/peers.py

# Gradescope: the zip to upload (README "Use with Gradescope"); SECRET_FILE=path adds the hidden-case secret
autograder: $(STAMP)
	$(PY) -m grader autograder-zip --out $(AUTOGRADER_ZIP) --assignment $(ASSIGNMENT) $(if $(SECRET_FILE),--secret-file $(SECRET_FILE))

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
