"""forked: a call in a child process gives the call's own value or error; the linter run there
by a build prints the same warnings and keeps its cache."""

from __future__ import annotations

import os

import pytest

from builder import forked, lint_memo, stages_check
from builder.forked import ForkedCall
from builds import build_in
from test_lint_memo import write_cards

pytestmark = pytest.mark.skipif(not forked.CAN_FORK, reason="fork() is Linux's here")


def test_the_value_comes_from_a_child_process():
    value = ForkedCall(lambda: (os.getpid(), {"a": [1, 2.5, "x"]}))
    pid, data = value.result()
    assert pid != os.getpid() and data == {"a": [1, 2.5, "x"]}
    assert value.result() == (pid, data)  # asked again: the same value, no other child


def test_a_failing_call_raises_its_own_error_here():
    calls = []

    def call():
        calls.append(os.getpid())
        raise ValueError("from the call")

    with pytest.raises(ValueError, match="from the call"):
        ForkedCall(call).result()
    assert calls == [os.getpid()]  # the child's attempt is not seen here: this one raised


def test_a_value_pickle_cannot_carry_is_made_here():
    made_in = ForkedCall(lambda: (os.getpid(), lambda: None)).result()[0]
    assert made_in == os.getpid()


def test_without_fork_the_call_waits_for_its_result():
    calls = []
    value = ForkedCall(lambda: calls.append(1) or len(calls), fork=False)
    assert calls == []
    assert value.result() == 1 and value.result() == 1 and calls == [1]


def test_a_build_lints_in_a_child_with_the_same_warnings_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    write_cards(tmp_path / "here" / "cards")
    write_cards(tmp_path / "child" / "cards")
    monkeypatch.chdir(tmp_path)  # warnings name files relative to it

    def warnings(project: str, **more) -> list[str]:
        built = build_in(tmp_path / project, check_math=False, **more)
        return [str(warning).replace(project, "PROJECT") for warning in built.warnings]

    monkeypatch.setattr(stages_check, "CHILD_FROM_CARDS", 10**9)
    here = warnings("here")
    monkeypatch.setattr(stages_check, "CHILD_FROM_CARDS", 0)
    assert warnings("child") == here and len(here) >= 5

    linted = []  # cards read by the linter in this process
    monkeypatch.setattr(stages_check, "CHILD_FROM_CARDS", 10**9)
    original = lint_memo.RememberingLinter.card
    monkeypatch.setattr(
        lint_memo.RememberingLinter,
        "card",
        lambda self, card: linted.append(card) or original(self, card),
    )
    assert warnings("child", force=True) == here
    assert linted == []  # the child kept its findings in the lint cache
