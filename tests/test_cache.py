"""Is the cached answer key the answer key?"""

from __future__ import annotations

import stat
import subprocess
import sys

import numpy as np

from grader.cache import cache_key, cached_expected_values
from reference.cases import draw_cases
from reference.spec import DEFAULT_SPEC, load_spec
from tests.conftest import REPO


def test_a_cached_answer_key_equals_the_computed_one_and_stays_private(tmp_path):
    spec = load_spec()
    book = draw_cases(spec, b"cache-test")
    computed = cached_expected_values(spec, book, tmp_path)
    [stored] = tmp_path.iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # it holds hidden expected values
    assert "cache-test" not in stored.read_text()  # keyed by the cases, never holding the secret
    cached = cached_expected_values(spec, book, tmp_path)
    assert [(e.check_id, e.case) for e in cached] == [(e.check_id, e.case) for e in computed]
    for fresh, again in zip(computed, cached):
        assert np.array_equal(fresh.value, again.value, equal_nan=True)
        assert np.array_equal(fresh.comparable, again.comparable)


def test_a_changed_spec_or_secret_misses_the_cache(tmp_path):
    spec = load_spec()
    edited = tmp_path / "assignment.toml"
    edited.write_text(DEFAULT_SPEC.read_text().replace("points = 4", "points = 5", 1))
    keys = {
        cache_key(spec, draw_cases(spec, b"one")),
        cache_key(spec, draw_cases(spec, b"two")),
        cache_key(load_spec(edited), draw_cases(spec, b"one")),
    }
    assert len(keys) == 3


def test_with_the_answer_key_cached_the_grader_never_loads_torch_itself(tmp_path):
    """torch is the submissions' (imported once by the warm worker): the grader's own
    process plans a run without it, about 2 s sooner and 200 MB smaller."""
    spec = load_spec()
    cached_expected_values(spec, draw_cases(spec, None), tmp_path)
    script = (
        "import sys\n"
        "from grader import cli\n"
        "from grader.pipeline import plan_grading\n"
        "from reference.cases import draw_cases\n"
        "from reference.spec import load_spec\n"
        "spec = load_spec()\n"
        f"plan = plan_grading(spec, draw_cases(spec, None), {str(tmp_path)!r})\n"
        "print(len(plan.expected), 'torch' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    count, loaded_torch = completed.stdout.split()
    assert int(count) > 0 and loaded_torch == "False"
