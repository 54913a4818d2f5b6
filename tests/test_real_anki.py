"""`mathdeck push` and the flagship's cards in the real Anki desktop (26.9.3) with the real
AnkiConnect add-on (tests/real_anki.py): where the cards land, what a push writes, and what
Anki's own reviewer shows in a 400 px window, day and night.

"Nothing written" is proved by what Anki itself records: the collection's modification time and
each note type's and note's `mod` (read inside Anki by the test's reviewer add-on).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from builds import REPO, build_in, copy_flagship
from real_anki import RealAnki, missing_requirement
from test_push import push

DECK = "ML Math Cheat Sheet"
NOTE_TYPES = {"mathdeck formula", "mathdeck qa", "mathdeck code"}
EDITED_CARD = "p1-bayes-theorem"
SCREENSHOTS = REPO / "tests" / "artifacts" / "real-anki"
WIDTH = 400
# Cards shown per theme (two sides each); MATHDECK_REVIEWER_CARDS=all shows every card.
SAMPLE_CARDS = os.environ.get("MATHDECK_REVIEWER_CARDS", "24")
# A deliberately wide element inside an overflow-x:auto box, and one wider than the window.
CONTROL_HTML = (
    '<div id="md-control-box" style="overflow-x:auto"><div style="width:1500px">wide</div></div>'
    '<div id="md-control-wide" style="width:900px">wide</div>'
)


@pytest.fixture(scope="module")
def anki(tmp_path_factory):
    reason = missing_requirement()
    if reason:
        pytest.skip(reason)
    with RealAnki(tmp_path_factory.mktemp("real-anki")) as desktop:
        yield desktop


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_flagship(tmp_path_factory.mktemp("flagship"))


def pushed(project: Path, anki: RealAnki) -> str:
    result = push(project, anki.url)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return " ".join(result.output.split())


def expected_subdecks(project: Path) -> dict[str, str]:
    """CardId → the deck its cards belong in, from the sources."""
    from builder.load import load_deck
    from builder.package import subdeck_name

    deck = load_deck(project / "cards")
    return {card.id: subdeck_name(deck, card.subdeck) for card in deck.cards if not card.retired}


def cards_by_deck(anki: RealAnki) -> list[tuple[str, str]]:
    """(CardId, deck name) of every card in the collection."""
    infos = anki.call("cardsInfo", cards=anki.call("findCards", query=""))
    return [(info["fields"]["CardId"]["value"], info["deckName"]) for info in infos]


def assert_every_card_in_its_subdeck(anki: RealAnki, subdecks: dict[str, str]) -> None:
    placed = cards_by_deck(anki)
    assert placed and not anki.call("findCards", query='"deck:Default"')
    misplaced = [(card_id, deck) for card_id, deck in placed if subdecks[card_id] != deck]
    assert not misplaced, misplaced[:5]


def test_push_files_cards_in_subdecks_updates_one_edit_and_writes_nothing_when_unchanged(
    anki, project, tmp_path
):
    subdecks = expected_subdecks(project)
    assert anki.call("findNotes", query="") == []

    first = pushed(project, anki)
    notes = anki.call("findNotes", query="")
    assert f"{len(notes)} added, 0 updated, 0 unchanged" in first and len(notes) == len(subdecks)
    assert set(anki.call("modelNames")) >= NOTE_TYPES
    assert_every_card_in_its_subdeck(
        anki, subdecks
    )  # AnkiConnect's addNote alone files them in Default
    before_edit = anki.driver("state")

    time.sleep(1.1)  # note and note type times are in seconds: a write now must show
    card_file = project / "cards" / "part1-probability.yaml"
    source = card_file.read_text(encoding="utf-8")
    card_file.write_text(
        source.replace(
            "    concept: Bayes' theorem\n", "    concept: Bayes' theorem (edited)\n", 1
        ),
        encoding="utf-8",
    )
    try:
        second = pushed(project, anki)
    finally:
        card_file.write_text(source, encoding="utf-8")
    after_edit = anki.driver("state")
    (edited,) = anki.call("findNotes", query=f'"CardId:{EDITED_CARD}"')
    changed = {
        note_id
        for note_id, mod in after_edit["note_mods"].items()
        if before_edit["note_mods"][note_id] != mod
    }
    assert "0 added, 1 updated" in second and changed == {str(edited)}
    assert (
        anki.call("notesInfo", notes=[edited])[0]["fields"]["Concept"]["value"]
        == "Bayes' theorem (edited)"
    )
    assert (
        after_edit["note_type_mods"] == before_edit["note_type_mods"]
    )  # same templates and CSS: not rewritten
    assert (
        after_edit["collection_mod"] != before_edit["collection_mod"]
    )  # the control: a write does show here

    time.sleep(1.1)
    third = pushed(project, anki)  # the sources as first pushed: only the edited note differs
    time.sleep(1.1)
    after_revert = anki.driver("state")
    fourth = pushed(project, anki)
    assert "0 added, 1 updated" in third
    assert (
        f"0 added, 0 updated, {len(notes)} unchanged; 0 media files stored" in fourth
        and "Nothing was written" in fourth
    )
    assert anki.driver("state") == after_revert  # collection, note types and every note: untouched
    assert_every_card_in_its_subdeck(anki, subdecks)


def test_imported_package_files_cards_in_subdecks_and_push_then_refuses_duplicates(
    anki, project, monkeypatch
):
    if not anki.call("findNotes", query=""):
        pushed(project, anki)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    built = build_in(project)
    count = len(anki.call("findNotes", query=""))
    assert anki.call("importPackage", path=str(built.path)) is True
    # The pushed notes carry AnkiConnect's GUIDs, so the package adds a copy of each (README); it
    # also carries the retired notes, which push never adds.
    assert len(anki.call("findNotes", query="")) == count + len(built.notes) > count + 200
    # the package's retired notes go to the Retired subdeck (new learners delete them at once)
    from builder.package import subdeck_name

    assert_every_card_in_its_subdeck(
        anki, {note.card.id: subdeck_name(built.deck, note.subdeck) for note in built.notes}
    )

    before = anki.driver("state")
    time.sleep(1.1)
    result = push(project, anki.url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"card '{EDITED_CARD}' matches 2 notes in Anki" in result.output
        and "nothing was written" in result.output
    )
    assert anki.driver("state") == before


def test_card_id_searches_are_literal_in_real_anki(anki, project):
    from builder.ankiconnect import field_search

    if not anki.call("findNotes", query=""):
        pushed(project, anki)
    named = anki.call("findNotes", query=field_search("CardId", EDITED_CARD))
    assert named  # one note (two once the .apkg was imported beside the pushed ones)
    near_miss = EDITED_CARD[:-1] + "_"  # `_` is any one character to Anki unless escaped
    assert anki.call("findNotes", query=field_search("CardId", near_miss)) == []
    assert anki.call("findNotes", query=field_search("CardId", "*")) == []
    # The negative control: unescaped, the same values match notes they do not name.
    assert set(named) <= set(anki.call("findNotes", query=f'"CardId:{near_miss}"'))
    assert len(anki.call("findNotes", query='"CardId:*"')) == len(anki.call("findNotes", query=""))


# ---------------------------------------------------------------- the reviewer at 400 px


def sample_cards(anki: RealAnki) -> list[int]:
    """One Anki card per (CardId, template), spread evenly over the deck's cards in source order."""
    infos = sorted(
        anki.call("cardsInfo", cards=anki.call("findCards", query=f'"deck:{DECK}"')),
        key=lambda info: (info["deckName"], info["fields"]["CardId"]["value"], info["ord"]),
    )
    unique = list(
        {
            (info["fields"]["CardId"]["value"], info["ord"]): info["cardId"] for info in infos
        }.values()
    )
    if SAMPLE_CARDS == "all":
        return unique
    step = max(1, len(unique) // int(SAMPLE_CARDS))
    return unique[::step][: int(SAMPLE_CARDS)]


@pytest.fixture(scope="module")
def reviewed(anki, project):
    if not anki.call("findNotes", query=""):
        pushed(project, anki)
    cards = sample_cards(anki)
    sides = {
        theme: anki.driver(
            "review",
            card_ids=cards,
            night=theme == "night",
            width=WIDTH,
            screenshots=str(SCREENSHOTS),
        )["sides"]
        for theme in ("day", "night")
    }
    (SCREENSHOTS / "sides.json").write_text(
        json.dumps(sides, indent=1)
    )  # every measurement, to read beside the screenshots
    return sides


def test_the_measurement_reports_a_wide_element_in_a_scroll_box(anki, reviewed):
    """Negative control: the same page, the same script, with a deliberately wide element."""
    card = reviewed["day"][0]["card_id"]
    sides = anki.driver(
        "review",
        card_ids=[card],
        night=False,
        width=WIDTH,
        screenshots=str(SCREENSHOTS / "control"),
        inject=CONTROL_HTML,
    )["sides"]
    assert all(
        any(found.startswith("div#md-control-box") for found in side["scrollbars"])
        for side in sides
    )
    assert all(
        any(found.startswith("div#md-control-wide") for found in side["pastEdge"]) for side in sides
    )
    assert all(side["documentScrolls"] for side in sides)


def test_anki_reviewer_at_400px_shows_no_scrollbar_overflow_or_math_error_day_and_night(reviewed):
    sides = reviewed["day"] + reviewed["night"]
    assert len(reviewed["day"]) >= 40 and len(reviewed["night"]) == len(reviewed["day"])
    assert not [side for side in sides if side.get("timeout")]
    assert {side["innerWidth"] for side in sides} == {WIDTH}
    assert all("nightMode" in side["bodyClass"] for side in reviewed["night"])
    assert not any("nightMode" in side["bodyClass"] for side in reviewed["day"])
    assert sum(side["formulas"] for side in sides) > len(sides)  # MathJax did typeset

    def problems(side: dict) -> list[str]:
        found = [f"scrollbar: {item}" for item in side["scrollbars"]] + [
            f"past the edge: {item}" for item in side["pastEdge"]
        ]
        found += ["the page scrolls sideways"] if side["documentScrolls"] else []
        found += [f"{side['mathErrors']} MathJax errors"] if side["mathErrors"] else []
        found += ["TeX left unrendered"] if side["unrendered"] else []
        return found

    failing = {
        f"{side['theme']} card {side['card_id']} {side['side']}": problems(side)
        for side in sides
        if problems(side)
    }
    assert not failing, f"{len(failing)} of {len(sides)} sides: " + "; ".join(
        f"{where}: {', '.join(found[:2])}" for where, found in list(failing.items())[:8]
    )
