"""Hidden cases that are not an oracle: `[gradescope] hidden_feedback` read against real
submission_metadata.json files, as Gradescope writes them (the container test runs the whole
image: tests/container)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from grader.core.spec import load_spec
from grader.gradescope.container import hidden_feedback, read_metadata
from tests.conftest import course_assignment

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    home, env = course_assignment(tmp_path_factory.mktemp("course"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_ASSIGNMENTS", env["GRADER_ASSIGNMENTS"])
        loaded = load_spec(home / "assignment.toml")
    assert loaded.hidden_feedback == (2, 24.0)
    return loaded


def _metadata(tmp_path, previous, created=NOW) -> object:
    path = tmp_path / "submission_metadata.json"
    data = {"id": 7, "previous_submissions": previous}
    if created is not None:
        data["created_at"] = created.isoformat()
    path.write_text(json.dumps(data) if not isinstance(previous, str) else previous)
    return read_metadata(path)


def _earlier(*hours_ago: float) -> list[dict]:
    return [
        {"submission_time": (NOW - timedelta(hours=h)).isoformat(), "score": 1} for h in hours_ago
    ]


def test_the_first_two_in_a_window_show_everything_and_the_third_waits(spec, tmp_path):
    assert hidden_feedback(spec, _metadata(tmp_path, [])).shown
    assert hidden_feedback(spec, _metadata(tmp_path, _earlier(3))).shown
    third = hidden_feedback(spec, _metadata(tmp_path, _earlier(3, 20)))
    assert not third.shown and third.counted == 2
    assert third.returns_at == NOW - timedelta(hours=20) + timedelta(hours=24)


def test_submissions_older_than_the_window_do_not_count(spec, tmp_path):
    assert hidden_feedback(spec, _metadata(tmp_path, _earlier(1, 25, 30, 48))).shown


@pytest.mark.parametrize(
    ("previous", "created", "says"),
    [
        ("{not json", NOW, "unreadable"),
        ([{"submission_time": "yesterday"}, {"score": 3}, "x"], NOW, "unreadable, not counted"),
        (_earlier(-5, -10), NOW, "after this one's, not counted"),
    ],
)
def test_metadata_missing_malformed_or_from_the_future_never_holds_verdicts_back(
    spec, tmp_path, previous, created, says
):
    feedback = hidden_feedback(spec, _metadata(tmp_path, previous, created))
    assert feedback.shown and says in feedback.note


def test_no_metadata_file_shows_everything(spec, tmp_path):
    assert hidden_feedback(spec, read_metadata(tmp_path / "absent.json")).shown


def test_a_spec_without_the_setting_never_limits(tmp_path):
    from tests.conftest import REPO

    plain = load_spec(REPO / "reference" / "conv2d" / "assignment.toml")
    assert plain.hidden_feedback is None
    assert hidden_feedback(plain, _metadata(tmp_path, _earlier(1, 2, 3, 4))).shown
