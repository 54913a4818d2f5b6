"""`mathdeck pull --ankiconnect` against the real Anki desktop (26.9.3) with the real AnkiConnect
add-on (tests/real_anki.py): the notes pushed from the minimal project, one edited inside Anki,
come back as a diff; with nothing edited, nothing comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from builds import MINIMAL, build_in, copy_sources
from real_anki import RealAnki, missing_requirement
from test_push import push

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def anki(tmp_path_factory):
    reason = missing_requirement()
    if reason:
        pytest.skip(reason)
    with RealAnki(tmp_path_factory.mktemp("real-anki-pull")) as desktop:
        yield desktop


def pull(project: Path, url: str, *args: str):
    from builder.cli import app

    return RUNNER.invoke(
        app, ["pull", "--ankiconnect", url, "--cards", str(project / "cards"), *args]
    )


def test_pull_through_ankiconnect_brings_back_an_edit_made_in_anki(anki, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    copy_sources(MINIMAL, tmp_path / "project")
    project = tmp_path / "project"
    build_in(project)  # the lock: what the sources' notes were last built as
    pushed = push(project, anki.url)
    assert pushed.exit_code == 0, pushed.output

    unchanged = pull(project, anki.url)
    assert unchanged.exit_code == 0, unchanged.output
    assert (
        unchanged.output.strip().splitlines()[-1]
        == "0 cards changed, 0 conflicts, 0 new notes, 0 unreadable"
    )

    [note_id] = anki.call("findNotes", query='"CardId:q13-kl-divergence"')
    [info] = anki.call("notesInfo", notes=[note_id])
    answer = info["fields"]["Answer"]["value"].replace("Asymmetric", "<b>Asymmetric</b>")
    anki.call("updateNoteFields", note={"id": note_id, "fields": {"Answer": answer}})

    cards_file = project / "cards" / "cards.yaml"
    pulled = pull(project, anki.url, "--apply")
    assert pulled.exit_code == 0, pulled.output
    assert (
        "-      - Asymmetric, so not a metric.\n+      - **Asymmetric**, so not a metric.\n"
        in pulled.output
    )
    assert "1 card changed, 0 conflicts, 0 new notes, 0 unreadable" in pulled.output
    assert "      - **Asymmetric**, so not a metric.\n" in cards_file.read_text()
    assert (
        cards_file.read_text().replace("**Asymmetric**", "Asymmetric")
        == (MINIMAL / "cards" / "cards.yaml").read_text()
    )


def test_the_collection_of_a_running_anki_is_refused(anki, tmp_path):
    from builder.cli import app
    from real_anki import PROFILE

    copy_sources(MINIMAL, tmp_path / "project")
    collection = anki.base / PROFILE / "collection.anki2"
    assert collection.exists()
    refused = RUNNER.invoke(
        app, ["pull", str(collection), "--cards", str(tmp_path / "project" / "cards")]
    )
    assert refused.exit_code == 1
    assert " ".join(refused.output.split()) == (
        f"cannot pull: {collection} is open in Anki (collection.anki2-wal exists): close Anki (or "
        "switch profile) and pull again, "
        "or pull a file exported from Anki (File → Export…, .apkg) or from the running Anki with "
        "--ankiconnect; nothing was written."
    )
