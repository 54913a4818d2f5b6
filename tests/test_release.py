"""Release after release on the real `anki` library: nothing a learner has is lost (issue 6)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from anki_collection import (
    answer_first_due_card,
    card_state,
    fresh_collection,
    import_package,
    notes_by_card_id,
    review_log,
)
from builder.problems import SourceError
from builds import build_in

SUBDECK = "ML Math Cheat Sheet::Part 1: Concepts & Formulas"


def release(project, part: str, **options):
    from builder.build import BuildOptions, build

    return build(
        BuildOptions(
            cards_dir=project / "cards",
            out_dir=project / "dist",
            figures_dir=project / "figures",
            cache_dir=project / ".cache" / "figures",
            release=part,
            **options,
        )
    )


def edit_for_next_release(project) -> None:
    """One edited card, one new card, one retired card."""
    cards = project / "cards" / "cards.yaml"
    text = cards.read_text()
    text = text.replace(
        "- Asymmetric, so not a metric.", "- Asymmetric in general, so not a metric."
    )
    text = text.replace(
        "  - id: snippet-softmax\n    kind: code\n",
        "  - id: snippet-softmax\n    kind: code\n    retired: true\n",
    )
    text += (
        "\n  - id: chain-rule\n    kind: formula\n    concept: Chain rule of probability\n"
        "    formula: |\n      $$P(a, b) = P(a \\mid b)\\,P(b)$$\n"
    )
    cards.write_text(text)


def test_release_bumps_version_writes_changelog_and_records_the_release(project):
    result = release(project, "minor")
    assert result.path.name == "ml-math-cheatsheet-0.2.0.apkg"
    assert "version: 0.2.0\n" in (project / "cards" / "deck.yaml").read_text()
    assert (
        "# The deck's identity. deck_id and the note type ids are fixed forever"
        in (project / "cards" / "deck.yaml").read_text()
    )  # comments kept
    changelog = (project / "CHANGELOG.md").read_text()
    assert "## 0.2.0 (2025-11-24)" in changelog and "**Added** (3):" in changelog
    assert "- `bayes-theorem`: Bayes' theorem" in changelog
    lock = json.loads((project / "cards" / "mathdeck.lock.json").read_text())
    assert lock["release"]["version"] == "0.2.0" and set(lock["release"]["cards"]) == {
        "bayes-theorem",
        "q13-kl-divergence",
        "snippet-softmax",
    }


def test_next_release_updates_adds_retires_and_keeps_every_review(project, tmp_path, monkeypatch):
    first = release(project, "minor")
    col = fresh_collection(tmp_path / "anki")
    import_package(col, first.path)
    studied = [answer_first_due_card(col, SUBDECK) for _ in range(2)]
    code_card = notes_by_card_id(col)["snippet-softmax"].cards()[0].id
    states = {cid: card_state(col, cid) for cid in [*studied, code_card]}
    history = review_log(col)
    kl_note = notes_by_card_id(col)["q13-kl-divergence"].id

    edit_for_next_release(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764086400")
    second = release(project, "patch")
    assert second.path.name == "ml-math-cheatsheet-0.2.1.apkg" and first.path.exists()
    assert [c[0] for c in second.changes.added] == ["chain-rule"]
    assert [c[0] for c in second.changes.changed] == ["q13-kl-divergence"]
    assert [c[0] for c in second.changes.retired] == ["snippet-softmax"]
    changelog = (project / "CHANGELOG.md").read_text()
    assert changelog.index("## 0.2.1") < changelog.index("## 0.2.0")  # newest first

    log = import_package(col, second.path)
    assert sorted(n.fields[-1] for n in log.updated) == ["q13-kl-divergence", "snippet-softmax"]
    assert [n.fields[-1] for n in log.new] == ["chain-rule"]
    notes = notes_by_card_id(col)
    assert len(col.find_notes("")) == 4 and notes["q13-kl-divergence"].id == kl_note
    assert "Asymmetric in general" in notes["q13-kl-divergence"]["Answer"]
    retired = notes["snippet-softmax"]
    assert "retired" in retired.tags and "Retired from the deck" in retired["Task"]
    assert col.find_notes("tag:retired") == [retired.id]  # one search finds every retired note
    # Anki never moves a learner's existing cards on import (anki-facts.md): the retired card stays
    # where it was, with its review state; new learners get it in the Retired subdeck.
    assert {cid: card_state(col, cid) for cid in states} == states and review_log(col) == history

    newcomer = fresh_collection(tmp_path / "newcomer")
    import_package(newcomer, second.path)
    retired_card = notes_by_card_id(newcomer)["snippet-softmax"].cards()[0]
    assert newcomer.decks.name(retired_card.did) == "ML Math Cheat Sheet::Retired"
    description = newcomer.decks.by_name("ML Math Cheat Sheet")["desc"]
    assert "What changed in 0.2.1" in description and "chain-rule" in description


def test_deleting_a_released_card_is_refused(project):
    release(project, "patch")
    cards = project / "cards" / "cards.yaml"
    text = cards.read_text()
    cards.write_text(text[: text.index("  - id: snippet-softmax")])
    with pytest.raises(SourceError) as error:
        release(project, "patch")
    [problem] = error.value.problems
    assert problem.location.file.name == "mathdeck.lock.json" and problem.location.line > 0
    assert problem.message.startswith(
        "card 'snippet-softmax' (Write a numerically stable softmax "
        "in PyTorch.) was in release 0.1.1 but is gone"
    )
    assert "'retired: true'" in problem.message


def test_a_retired_id_is_never_reused(project):
    edit_for_next_release(project)
    cards = project / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text()
        + "\n  - id: snippet-softmax\n    kind: qa\n    question: Q?\n    answer: A\n"
    )
    with pytest.raises(SourceError) as error:
        build_in(project)
    [problem] = error.value.problems
    assert (
        "belongs to the retired card at" in problem.message and "choose a new id" in problem.message
    )


def test_note_type_changes_since_the_release_need_confirmation(project):
    release(project, "patch")
    lock_path = project / "cards" / "mathdeck.lock.json"
    lock = json.loads(lock_path.read_text())
    lock["release"]["note_types"]["qa"]["fields"].remove(
        "FollowupAnswer"
    )  # as if the field were new now
    lock_path.write_text(json.dumps(lock))
    with pytest.raises(SourceError) as error:
        release(project, "patch")
    [problem] = error.value.problems
    assert (
        "note type 'mathdeck qa' changed since release 0.1.1" in problem.message
        and "full sync" in problem.message
    )
    assert release(project, "patch", allow_note_type_change=True).deck.config.version == "0.1.2"


def test_watch_rebuilds_one_edited_card_without_drawing_figures(project):
    from builder.build import BuildOptions
    from builder.watch import watch

    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )
    reports, stop = [], threading.Event()
    thread = threading.Thread(target=watch, args=(options, reports.append, stop), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not reports and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reports and reports[0].result.path.name == "ml-math-cheatsheet-0.1.0+dev.apkg"
    time.sleep(0.5)  # let the watcher settle before the edit
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))
    while len(reports) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert len(reports) >= 2, "no rebuild after the edit"
    rebuild = reports[1]
    assert (
        rebuild.error is None
        and rebuild.changes.changed == ["bayes-theorem"]
        and not rebuild.changes.added
        and not rebuild.changes.removed
    )
    assert rebuild.result.figures_drawn == 0


def test_watch_rebuilds_a_save_made_while_the_first_build_ran(project, monkeypatch):
    """The watcher starts after the first build; a save made during that build must not be lost
    (it was, and CI caught it once as a flaky 'no rebuild after the edit')."""
    import builder.watch as watch_module
    from builder.build import BuildOptions

    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )
    cards = project / "cards" / "cards.yaml"
    real_rebuild = watch_module.rebuild

    def rebuild_then_save_on_the_first(options, previous, first=False):
        outcome = real_rebuild(options, previous, first)
        if first:  # saved after the first build read the sources, before the watcher is up
            cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))
        return outcome

    monkeypatch.setattr(watch_module, "rebuild", rebuild_then_save_on_the_first)
    reports, stop = [], threading.Event()
    thread = threading.Thread(
        target=watch_module.watch, args=(options, reports.append, stop), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while len(reports) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert len(reports) >= 2, "the save made during the first build was never rebuilt"
    assert reports[1].error is None and reports[1].changes.changed == ["bayes-theorem"]
