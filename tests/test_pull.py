"""`mathdeck pull` end to end on the official `anki` library: build, import, edit notes as Anki's
editor stores them, export an .apkg with Anki's own exporter, pull, build and import again.
Each report (conflict, new note, deleted note, pasted image, a collection Anki holds open) is
checked with its exact message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anki_collection import (
    answer_first_due_card,
    card_state,
    fresh_collection,
    import_package,
    notes_by_card_id,
    review_log,
)
from builds import build_in, set_version

RUNNER = CliRunner()


def run_pull(project: Path, source, *args: str):
    from builder.cli import app

    return RUNNER.invoke(app, ["pull", str(source), "--cards", str(project / "cards"), *args])


def export_apkg(col, path: Path) -> Path:
    """The whole collection as Anki's File → Export… writes it (current format, with scheduling)."""
    from anki.collection import ExportAnkiPackageOptions

    options = ExportAnkiPackageOptions(
        with_scheduling=True, with_deck_configs=False, with_media=True, legacy=False
    )
    col.export_anki_package(out_path=str(path), options=options, limit=None)
    return path


def edit(col, card_id: str, **fields: str) -> None:
    note = notes_by_card_id(col)[card_id]
    for name, value in fields.items():
        note[name] = value
    col.update_note(note)


@pytest.fixture
def imported(project, tmp_path):
    """The minimal project built and imported into a fresh collection: (collection, build "
    "result)."""
    result = build_in(project)
    col = fresh_collection(tmp_path / "anki")
    import_package(col, result.path)
    yield col, result
    col.close()


def yaml_values(cards_file: Path) -> dict[tuple[str, str], object]:
    """(card id, key) → value of every card in a card file, as the loader reads them."""
    from builder.yamlsource import read_yaml

    def plain(node):
        if isinstance(node.value, list):
            return [plain(item) for item in node.value]
        if isinstance(node.value, dict):
            return {key: plain(value) for key, value in node.value.items()}
        return node.value

    root = plain(read_yaml(cards_file))
    return {(card["id"], key): value for card in root["cards"] for key, value in card.items()}


def test_edits_made_in_anki_come_back_once_with_history_kept(
    project, imported, tmp_path, monkeypatch
):
    col, _ = imported
    studied = answer_first_due_card(col, "ML Math Cheat Sheet::Part 1: Concepts & Formulas")
    state, history = card_state(col, studied), review_log(col)
    kl = notes_by_card_id(col)["q13-kl-divergence"]
    # As Anki's editor stores it: a word bolded with <b>, a formula changed, a list item added,
    # a trailing <br> and a non-breaking space.
    answer = (
        kl["Answer"]
        .replace("Asymmetric", "<b>Asymmetric</b>")
        .replace("so not a metric.</li>", "so not a metric.</li><li>Not&nbsp;bounded above.</li>")
    )
    edit(col, "q13-kl-divergence", Answer=answer + "<br>")
    bayes = notes_by_card_id(col)["bayes-theorem"]
    edit(
        col,
        "bayes-theorem",
        Explanation=bayes["Explanation"]
        .replace(r"\(\times\)", r"\(\cdot\)")
        .replace("only", "alone"),
    )
    cards_file = project / "cards" / "cards.yaml"
    before_text, before = cards_file.read_text(), yaml_values(cards_file)

    pulled = run_pull(project, export_apkg(col, tmp_path / "edited.apkg"), "--apply")

    assert pulled.exit_code == 0, pulled.output
    assert "2 cards changed, 0 conflicts, 0 new notes, 0 unreadable" in pulled.output
    after = yaml_values(cards_file)
    assert {key for key in before if before[key] != after[key]} == {
        ("q13-kl-divergence", "answer"),
        ("bayes-theorem", "explanation"),
    }
    assert after["q13-kl-divergence", "answer"] == (
        "$D_{\\mathrm{KL}}(p \\,\\|\\, q) = \\sum_x p(x) \\log \\frac{p(x)}{q(x)}$\n\n"
        "- $D_{\\mathrm{KL}} \\ge 0$, with equality iff $p = q$ (Gibbs' inequality, via Jensen).\n"
        "- **Asymmetric**, so not a metric.\n- Not bounded above.\n"
    )
    assert after["bayes-theorem", "explanation"] == (
        "Posterior $\\propto$ likelihood $\\cdot$ prior; "
        "$P(B) = \\sum_a P(B \\mid a)\\,P(a)$ alone normalises.\n"
    )
    changed_lines = [
        line for line in _diff_lines(before_text, cards_file.read_text()) if line[0] in "+-"
    ]
    assert (
        len(changed_lines) == 5
    )  # two lines replaced (- and +), one added: within the two fields only
    assert all(
        "Asymmetric" in line or "bounded" in line or "normalises" in line for line in changed_lines
    )

    set_version(project / "cards", "0.1.1")
    monkeypatch.setenv(
        "SOURCE_DATE_EPOCH", str(int(time.time()) + 60)
    )  # newer than the edits in Anki
    second = build_in(project)
    log = import_package(col, second.path)
    assert sorted(note.fields[-1] for note in log.updated) == ["bayes-theorem", "q13-kl-divergence"]
    assert not log.new and len(col.find_notes("")) == 3
    notes = notes_by_card_id(col)
    assert notes["q13-kl-divergence"]["Answer"].count("bounded above") == 1
    assert r"\(\cdot\)" in notes["bayes-theorem"]["Explanation"]
    assert review_log(col) == history and card_state(col, studied) == state


def _diff_lines(before: str, after: str) -> list[str]:
    import difflib

    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]


def test_nothing_edited_pulls_nothing(project, imported, tmp_path):
    col, _ = imported
    before = (project / "cards" / "cards.yaml").read_bytes()
    pulled = run_pull(project, export_apkg(col, tmp_path / "same.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    assert (
        pulled.output.strip().splitlines()[-1]
        == "0 cards changed, 0 conflicts, 0 new notes, 0 unreadable"
    )
    assert (project / "cards" / "cards.yaml").read_bytes() == before
    assert not (project / "cards" / "pulled.yaml").exists()


def test_without_apply_a_diff_is_shown_and_nothing_written(project, imported, tmp_path):
    col, _ = imported
    edit(
        col, "q13-kl-divergence", Question="What is the KL divergence, and which properties matter?"
    )
    before = (project / "cards" / "cards.yaml").read_bytes()
    pulled = run_pull(project, export_apkg(col, tmp_path / "edited.apkg"))
    assert pulled.exit_code == 0, pulled.output
    assert (
        "-    question: What is the KL divergence and what are its key properties?\n"
        in pulled.output
    )
    assert (
        "+    question: What is the KL divergence, and which properties matter?\n" in pulled.output
    )
    assert (
        "1 card changed, 0 conflicts, 0 new notes, 0 unreadable; run again with --apply to write "
        "them" in pulled.output
    )
    assert (project / "cards" / "cards.yaml").read_bytes() == before


def test_a_field_changed_in_the_sources_too_is_a_conflict(project, imported, tmp_path):
    col, _ = imported
    edit(col, "q13-kl-divergence", Question="What is the KL divergence, in Anki's words?")
    cards_file = project / "cards" / "cards.yaml"
    cards_file.write_text(
        cards_file.read_text().replace("what are its key properties?", "what are its properties?")
    )
    edited = cards_file.read_bytes()
    pulled = run_pull(project, export_apkg(col, tmp_path / "edited.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    output = " ".join(pulled.output.split())
    assert (
        "conflict: card 'q13-kl-divergence', field 'question' (Question) was edited in Anki and "
        "also changed in the "
        "sources since that note's version; left as it is in the sources."
    ) in output
    assert (
        "in the sources: What is the KL divergence and what are its properties? in Anki: What is "
        "the KL divergence, in Anki's words?" in output
    )
    assert "0 cards changed, 1 conflict, 0 new notes, 0 unreadable" in output
    assert cards_file.read_bytes() == edited


def test_a_new_note_becomes_a_card_in_pulled_yaml(project, imported, tmp_path):
    col, _ = imported
    note = col.new_note(col.models.by_name("mathdeck qa"))
    note["Question"] = "What is the <b>entropy</b> of a fair coin?"
    note["Answer"] = r"<div>\(H = \log 2\) nats.</div><div>One bit.</div>"
    col.add_note(note, col.decks.id_for_name("ML Math Cheat Sheet"))
    pulled = run_pull(project, export_apkg(col, tmp_path / "new.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    assert "0 cards changed, 0 conflicts, 1 new note, 0 unreadable" in pulled.output
    assert (project / "cards" / "pulled.yaml").read_text() == (
        "subdeck: Pulled from Anki\ncards:\n  - id: what-is-the-entropy-of-a-fair-coin\n    kind: "
        "qa\n"
        "    question: What is the **entropy** of a fair coin?\n    answer: |\n      $H = \\log 2$ "
        "nats.\n\n      One bit.\n"
    )
    again = run_pull(project, export_apkg(col, tmp_path / "again.apkg"))
    assert (
        "1 new note" in again.output and "what-is-the-entropy-of-a-fair-coin-2" in again.output
    )  # ids stay unique


def test_a_card_file_left_unwritten_is_named_and_pulling_again_finishes(
    project, imported, tmp_path, monkeypatch
):
    """A full disk after the first of two card files: the message says which one was written
    (not "nothing was written"), and the same pull completes the other."""
    import errno

    import builder.atomic

    col, _ = imported
    edit(col, "bayes-theorem", Concept="Bayes' rule")
    note = col.new_note(col.models.by_name("mathdeck qa"))
    note["Question"], note["Answer"] = "What is the entropy of a fair coin?", "One bit."
    col.add_note(note, col.decks.id_for_name("ML Math Cheat Sheet"))
    source = export_apkg(col, tmp_path / "both.apkg")
    cards, pulled_file = project / "cards" / "cards.yaml", project / "cards" / "pulled.yaml"
    write_temp = builder.atomic._write_temp

    def full_disk_for_pulled_yaml(path: Path, data: bytes, durable: bool = True) -> Path:
        if path == pulled_file:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_temp(path, data, durable)

    monkeypatch.setattr(builder.atomic, "_write_temp", full_disk_for_pulled_yaml)
    failed = run_pull(project, source, "--apply")
    output = " ".join(failed.output.split())
    assert failed.exit_code == 1 and "Traceback" not in output, output
    assert f"error: cannot write {pulled_file}: No space left on device (ENOSPC)" in output
    assert f"Written: {cards}. Not written: {pulled_file} (files already there" in output
    assert "nothing was written" not in output
    assert "concept: Bayes' rule" in cards.read_text() and not pulled_file.exists()

    monkeypatch.setattr(builder.atomic, "_write_temp", write_temp)
    again = run_pull(project, source, "--apply")
    assert again.exit_code == 0, again.output
    assert "0 cards changed, 0 conflicts, 1 new note, 0 unreadable" in again.output
    assert "what-is-the-entropy-of-a-fair-coin" in pulled_file.read_text()


def test_a_card_file_saved_while_pull_checks_is_never_overwritten(
    project, imported, tmp_path, monkeypatch
):
    import builder.pull

    col, _ = imported
    edit(col, "bayes-theorem", Concept="Bayes' rule")
    source = export_apkg(col, tmp_path / "edited.apkg")
    cards = project / "cards" / "cards.yaml"
    check = builder.pull.load_and_check

    def saved_in_an_editor_meanwhile(*args, **kwargs):
        cards.write_text(cards.read_text().replace("Posterior", "The posterior"))
        return check(*args, **kwargs)

    monkeypatch.setattr(builder.pull, "load_and_check", saved_in_an_editor_meanwhile)
    pulled = run_pull(project, source, "--apply")
    output = " ".join(pulled.output.split())
    assert pulled.exit_code == 1 and "Traceback" not in output, output
    assert f"{cards}: changed while pull ran (saved in an editor?): pull again" in output
    assert "nothing was written" in output
    assert "The posterior" in cards.read_text() and "Bayes' rule" not in cards.read_text()


def test_a_symlinked_card_file_is_edited_where_it_lives(project, imported, tmp_path):
    """A card file shared by two decks through a symlink: the edit goes into the shared file,
    and the link stays a link (replacing it with a file would cut the decks apart silently)."""
    col, _ = imported
    edit(col, "bayes-theorem", Concept="Bayes' rule")
    link = project / "cards" / "cards.yaml"
    shared = tmp_path / "shared" / "cards.yaml"
    shared.parent.mkdir()
    link.rename(shared)
    link.symlink_to(shared)
    pulled = run_pull(project, export_apkg(col, tmp_path / "edited.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    assert link.is_symlink() and "concept: Bayes' rule" in shared.read_text()


def test_a_note_type_whose_card_id_field_was_removed_copies_no_card(project, imported, tmp_path):
    """A learner removed the CardId field (shown on every back) from one note type: its notes
    match no card, and taking each as a new note would copy those cards into pulled.yaml."""
    col, _ = imported
    qa = col.models.by_name("mathdeck qa")
    col.models.remove_field(qa, next(f for f in qa["flds"] if f["name"] == "CardId"))
    col.models.update_dict(qa)
    pulled = run_pull(project, export_apkg(col, tmp_path / "no-ids.apkg"), "--apply")
    output = " ".join(pulled.output.split())
    assert pulled.exit_code == 0, pulled.output
    assert (
        "unreadable: every note of 'mathdeck qa', field CardId: the note type in Anki has no "
        "CardId field, so its notes match no card" in output
    )
    assert "0 cards changed, 0 conflicts, 0 new notes, 1 unreadable" in output
    assert "deleted in Anki" not in output
    assert not (project / "cards" / "pulled.yaml").exists()


def test_a_deleted_or_suspended_note_is_reported_and_kept(project, imported, tmp_path):
    col, _ = imported
    col.remove_notes([notes_by_card_id(col)["snippet-softmax"].id])
    col.sched.suspend_cards(notes_by_card_id(col)["bayes-theorem"].card_ids())
    before = (project / "cards" / "cards.yaml").read_bytes()
    pulled = run_pull(project, export_apkg(col, tmp_path / "deleted.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    output = " ".join(pulled.output.split())
    assert (
        "deleted in Anki (kept in the sources; retire a card with `retired: true`): snippet-softmax"
        in output
    )
    assert "suspended in Anki: bayes-theorem" in output
    assert (project / "cards" / "cards.yaml").read_bytes() == before


def test_a_pasted_image_is_unreadable_and_the_card_left_alone(project, imported, tmp_path):
    col, _ = imported
    kl = notes_by_card_id(col)["q13-kl-divergence"]
    edit(
        col,
        "q13-kl-divergence",
        Question="Which KL?",
        Answer=kl["Answer"] + '<img src="paste-1a2b.png">',
    )
    before = (project / "cards" / "cards.yaml").read_bytes()
    pulled = run_pull(project, export_apkg(col, tmp_path / "image.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    output = " ".join(pulled.output.split())
    assert (
        "unreadable: card 'q13-kl-divergence', field 'answer' (Answer): an image pasted into the "
        "field "
        '(<img src="paste-1a2b.png">): add it as a figure in the sources instead; the card is left '
        "unchanged."
    ) in output
    assert "0 cards changed, 0 conflicts, 0 new notes, 1 unreadable" in output
    assert (
        project / "cards" / "cards.yaml"
    ).read_bytes() == before  # the question's edit is not half-applied


def test_a_collection_open_in_anki_is_refused(project, imported, tmp_path):
    col, _ = imported
    edit(col, "q13-kl-divergence", Question="Open?")
    path = Path(col.path)
    pulled = run_pull(project, path)
    assert pulled.exit_code == 1
    assert " ".join(pulled.output.split()) == (
        f"cannot pull: {path} is open in Anki (collection.anki2-wal exists): close Anki (or switch "
        "profile) and pull again, "
        "or pull a file exported from Anki (File → Export…, .apkg) or from the running Anki with "
        "--ankiconnect; nothing was written."
    )


def test_a_closed_collection_is_read_without_being_written(project, imported, tmp_path):
    col, _ = imported
    edit(col, "q13-kl-divergence", Question="What is the KL divergence, closed?")
    path = Path(col.path)
    col.close()
    before = path.read_bytes()
    pulled = run_pull(project, path)
    col.reopen()
    assert pulled.exit_code == 0, pulled.output
    assert "+    question: What is the KL divergence, closed?" in pulled.output
    assert path.read_bytes() == before


def test_a_colpkg_backup_is_read_like_an_apkg(project, imported, tmp_path):
    col, _ = imported
    edit(col, "q13-kl-divergence", Question="What is the KL divergence, from a backup?")
    exported = tmp_path / "backup.colpkg"
    col.export_collection_package(
        str(exported), include_media=True, legacy=False
    )  # closes the collection
    col.reopen()
    pulled = run_pull(project, exported)
    assert pulled.exit_code == 0, pulled.output
    assert "+    question: What is the KL divergence, from a backup?\n" in pulled.output
    assert "1 card changed, 0 conflicts, 0 new notes, 0 unreadable" in pulled.output


def test_an_edit_that_fails_check_writes_nothing_and_names_the_real_file(
    project, imported, tmp_path
):
    col, _ = imported
    edit(col, "q13-kl-divergence", Question=r"What is \(\undefinedmacro{p}\)?")
    before = (project / "cards" / "cards.yaml").read_bytes()
    pulled = run_pull(project, export_apkg(col, tmp_path / "bad.apkg"), "--apply")
    assert pulled.exit_code == 1
    output = " ".join(pulled.output.split())
    assert "cards.yaml:" in output and "q13-kl-divergence" in output and "undefinedmacro" in output
    assert "mathdeck-pull-" not in output  # the checked copy's path is never shown
    assert "nothing was written" in output
    assert (project / "cards" / "cards.yaml").read_bytes() == before


def test_a_note_whose_card_id_no_card_has_is_reported(project, imported, tmp_path):
    col, _ = imported
    note = col.new_note(col.models.by_name("mathdeck qa"))
    note["Question"], note["Answer"], note["CardId"] = "Q?", "A.", "from-another-deck"
    col.add_note(note, col.decks.id_for_name("ML Math Cheat Sheet"))
    pulled = run_pull(project, export_apkg(col, tmp_path / "unknown.apkg"))
    assert pulled.exit_code == 0, pulled.output
    assert "in Anki with a CardId no card has: from-another-deck" in pulled.output


def test_without_a_source_or_a_running_anki_pull_says_so(project):
    from builder.cli import app

    assert RUNNER.invoke(app, ["pull", "--cards", str(project / "cards")]).exit_code == 2
    missing = run_pull(project, project / "nothing.apkg")
    assert (
        missing.exit_code == 1
        and f"cannot pull: {project / 'nothing.apkg'}: no such file; nothing was written."
        in " ".join(missing.output.split())
    )
    closed = RUNNER.invoke(
        app, ["pull", "--ankiconnect", "http://127.0.0.1:9", "--cards", str(project / "cards")]
    )
    assert (
        closed.exit_code == 1
        and "cannot pull:" in closed.output
        and "nothing was written" in closed.output
    )


@pytest.mark.parametrize("source", ["folder.apkg", "/dev/null"])
def test_a_source_that_is_not_a_file_is_named_so(project, source):
    (project / "folder.apkg").mkdir()
    path = project / source
    pulled = run_pull(project, path)
    assert pulled.exit_code == 1
    assert (
        f"cannot pull: {path}: not a file (a folder, FIFO or device is never read as a "
        "collection); nothing was written." in " ".join(pulled.output.split())
    )


def test_an_older_build_is_not_an_edit_and_conflicts_are_per_field(
    project, imported, tmp_path, monkeypatch
):
    col, _ = imported
    cards_file = project / "cards" / "cards.yaml"
    # The sources change the answer and are built again; the learner's collection keeps 0.1.0
    # and edits the question.
    cards_file.write_text(
        cards_file.read_text().replace("Asymmetric, so not a metric.", "Asymmetric: not a metric.")
    )
    set_version(project / "cards", "0.1.1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764086400")
    build_in(project)
    edit(col, "q13-kl-divergence", Question="What is the KL divergence, edited on 0.1.0?")
    pulled = run_pull(project, export_apkg(col, tmp_path / "old.apkg"), "--apply")
    assert pulled.exit_code == 0, pulled.output
    output = " ".join(pulled.output.split())
    assert "1 field in Anki holds an older build's text, not edits: left alone." in output
    assert "1 card changed, 0 conflicts, 0 new notes, 0 unreadable" in output
    text = cards_file.read_text()
    assert (
        "question: What is the KL divergence, edited on 0.1.0?" in text
        and "Asymmetric: not a metric." in text
    )
