"""`mathdeck push` when things go wrong: a bad --url, malformed AnkiConnect answers, a connection
dropped part-way, hostile search values and notes that do not match cards one to one. The
protocol server (tests/ankiconnect_server.py, over a real `anki` collection) injects the faults;
tests/test_real_anki.py proves the normal behaviour against the real add-on."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from ankiconnect_server import DROP_AFTER_RUNNING, AnkiConnectServer
from builds import MINIMAL, copy_sources
from test_push import RUNNER, options, push

WRITE_ACTIONS = {
    "createModel",
    "updateModelTemplates",
    "updateModelStyling",
    "createDeck",
    "storeMediaFile",
    "addNote",
    "updateNoteFields",
    "addTags",
    "changeDeck",
}
NOT_A_SLUG = "must be a slug like an id"


@pytest.fixture
def minimal(tmp_path) -> Path:
    copy_sources(MINIMAL, tmp_path / "project")
    return tmp_path / "project"


@pytest.fixture
def anki(tmp_path):
    with AnkiConnectServer(tmp_path / "anki") as server:
        yield server


def one_line_failure(result, exit_code: int = 1) -> str:
    """The run's only output line: a failure says one thing, with no traceback."""
    assert result.exit_code == exit_code, result.output + repr(result.exception)
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def writes(server: AnkiConnectServer) -> list[str]:
    return [action for action in server.requests if action in WRITE_ACTIONS]


def http_answer(body: bytes, length: int | None = None) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(body) if length is None else length)
        + body
    )


# ---------------------------------------------------------------- --url


@pytest.mark.parametrize(
    "url",
    [
        "notaurl",
        "ftp://127.0.0.1:8765",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:8765/a b",
        "http://",
    ],
)
def test_a_bad_url_is_a_usage_error_on_one_line(minimal, url):
    line = one_line_failure(push(minimal, url), exit_code=2)
    assert line.startswith(f"Usage error: --url '{url}'") and "http://127.0.0.1:8765" in line


def test_a_bad_url_names_where_it_came_from(minimal):
    from builder.cli import app

    cards = ["--cards", str(minimal / "cards")]
    pushed = RUNNER.invoke(app, ["push", *cards], env={"ANKICONNECT_URL": "notaurl"})
    pulled = RUNNER.invoke(app, ["pull", "--ankiconnect", "notaurl", *cards])
    example = "is not an http:// address such as http://127.0.0.1:8765"
    assert one_line_failure(pushed, 2) == f"Usage error: ANKICONNECT_URL 'notaurl' {example}"
    assert one_line_failure(pulled, 2) == f"Usage error: SOURCE 'notaurl' {example}"


def test_a_good_url_is_not_refused(minimal, anki):  # the control for the test above
    assert push(minimal, anki.url + "/").exit_code == 0


# ---------------------------------------------------------------- malformed answers


MALFORMED = {
    "a body that is not UTF-8": (
        lambda request: http_answer(b'{"result": "\xff\xfe"}'),
        "not UTF-8 text",
    ),
    "a bad status line": (
        lambda request: b"HTTP/1.1 two hundred OK\r\n\r\n",
        "malformed HTTP answer (BadStatusLine)",
    ),
    "a truncated body": (
        lambda request: http_answer(b'{"result": 6, "err', length=500),
        "malformed HTTP answer (IncompleteRead)",
    ),
    "a body that is not JSON": (
        lambda request: http_answer(b"<html>hello</html>"),
        "did not answer in JSON",
    ),
    "an answer without result and error": (
        lambda request: http_answer(b"6"),
        "is not AnkiConnect's {result, error}",
    ),
    "a multi answer that is not a list": (
        lambda request: (
            http_answer(b'{"result": {"a": 1}, "error": null}')
            if request["action"] == "multi"
            else None
        ),
        "answered a multi request of 3 actions with dict answers",
    ),
    "a multi answer of the wrong length": (
        lambda request: (
            http_answer(b'{"result": [], "error": null}') if request["action"] == "multi" else None
        ),
        "answered a multi request of 3 actions with 0 answers",
    ),
    "multi answers not wrapped": (
        lambda request: (
            http_answer(
                json.dumps(
                    {"result": [[]] * len(request["params"]["actions"]), "error": None}
                ).encode()
            )
            if request["action"] == "multi"
            else None
        ),
        "the answer to 'findNotes' is not AnkiConnect's {result, error}",
    ),
    "an add-on older than API 6": (
        lambda request: (
            http_answer(b'{"result": 5, "error": null}') if request["action"] == "version" else None
        ),
        "AnkiConnect API version 5 is too old: mathdeck needs 6 (update the add-on)",
    ),
    "a version that is text": (
        lambda request: (
            http_answer(b'{"result": "6", "error": null}')
            if request["action"] == "version"
            else None
        ),
        """the answer to 'version' is not the int AnkiConnect sends: "6"; is it AnkiConnect?""",
    ),
    "a read answered with null": (
        lambda request: (
            http_answer(b'{"result": null, "error": null}')
            if request["action"] == "modelNames"
            else None
        ),
        "the answer to 'modelNames' is not the list AnkiConnect sends: null; is it AnkiConnect?",
    ),
}


@pytest.mark.parametrize("fault", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_answer_is_one_line_exit_1_and_nothing_written(minimal, anki, fault):
    anki.fault, expected = MALFORMED[fault]
    line = one_line_failure(push(minimal, anki.url))
    assert expected in line and line.endswith("nothing was written.")
    assert writes(anki) == [] and anki.col.note_count() == 0


@pytest.fixture
def silent_url():
    """A port that accepts connections (the kernel does, for a listening socket) and never
    answers: Anki busy, or something else listening."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_a_port_that_never_answers_is_said_after_the_timeout(minimal, silent_url, monkeypatch):
    monkeypatch.setattr("builder.ankiconnect.TIMEOUT", 0.5)
    assert one_line_failure(push(minimal, silent_url)) == (
        f"Anki did not answer: {silent_url} accepted the connection but sent no answer in 0.5 s "
        "(is Anki busy, or waiting for you in a dialog?). Nothing was written."
    )


def test_a_connection_dropped_while_adding_notes_says_what_was_written(minimal, anki):
    def drop_the_notes(request):
        actions = request["params"].get("actions", []) if request["action"] == "multi" else []
        return (
            DROP_AFTER_RUNNING if any(action["action"] == "addNote" for action in actions) else None
        )

    anki.fault = drop_the_notes
    anki.ignore_deck_name = True  # as the real add-on does: the added notes' cards are in Default
    line = one_line_failure(push(minimal, anki.url))
    assert line.startswith("Push stopped part-way: the connection to")
    assert (
        "Already written: note types created: mathdeck formula, mathdeck qa, mathdeck code; 1 "
        "decks created." in line
    )
    assert (
        "The answer to the last request (3 actions) never came, so some of those may have been "
        "written too." in line
    )
    assert "nothing" not in line
    assert anki.col.note_count() == 3  # they were written: the message did not pretend otherwise

    stranded = anki.col.find_cards('"deck:Default"')
    assert len(stranded) == 5  # the answer never came: they were not filed in their subdecks
    studied = anki.col.get_card(stranded[0])
    studied.type = studied.queue = 2  # a card a learner studied (and so kept) in Default
    anki.col.update_card(studied)

    anki.fault = None
    again = push(minimal, anki.url)  # "push again to finish" finds them instead of adding copies
    assert again.exit_code == 0 and (
        "0 added, 0 updated, 3 unchanged; 0 media files stored; 4 new cards filed in their "
        "subdecks" in " ".join(again.output.split())
    )
    assert anki.col.note_count() == 3
    assert anki.col.find_cards('"deck:Default"') == [studied.id]


def test_an_action_anki_refuses_part_way_says_what_was_written(minimal, anki):
    add_note = anki.action_addNote

    def refuse_the_code_card(note):
        if note["modelName"] == "mathdeck code":
            raise Exception("cannot create note because it is empty")
        return add_note(note)

    anki.action_addNote = refuse_the_code_card
    anki.ignore_deck_name = True  # as the real add-on does: the notes Anki took must still be filed
    line = one_line_failure(push(minimal, anki.url))
    assert line.startswith(
        "Push stopped part-way: addNote: cannot create note because it is empty."
    )
    assert (
        "Already written: note types created: mathdeck formula, mathdeck qa, mathdeck code; 1 "
        "decks created; 2 notes added; 4 new cards moved to their subdecks."
    ) in line
    assert anki.col.note_count() == 2 and not anki.col.find_cards('"deck:Default"')


# ---------------------------------------------------------------- searches and one-to-one matches


@pytest.fixture
def card_id_notes(anki):
    """Notes whose CardId holds every character Anki's search syntax gives a meaning."""
    anki.action_createModel(
        "ids", ["CardId"], [{"Name": "Card 1", "Front": "{{CardId}}", "Back": ""}]
    )
    values = ["alpha", "alph_", "alp*", "*", "a:b", 'q"x', "back\\slash", "al"]
    for value in values:
        note = anki.col.new_note(anki.col.models.by_name("ids"))
        note["CardId"] = value
        anki.col.add_note(note, 1)
    notes = {anki.col.get_note(note_id)["CardId"]: note_id for note_id in anki.col.find_notes("")}
    assert sorted(notes) == sorted(values)  # the tests below loop over these: none may be missing
    return notes


def test_a_field_search_matches_its_value_literally(anki, card_id_notes):
    from builder.ankiconnect import field_search

    for value, note_id in card_id_notes.items():
        assert anki.col.find_notes(field_search("CardId", value)) == [note_id], value


def test_unescaped_searches_would_match_other_notes(anki, card_id_notes):
    # The negative control: without escaping, '*' matches every note and '_' any character.
    assert len(anki.col.find_notes('"CardId:*"')) == len(card_id_notes)
    assert card_id_notes["alpha"] in anki.col.find_notes('"CardId:alph_"')


def pushed_notes(project: Path, anki: AnkiConnectServer):
    from builder.ankiconnect import AnkiConnect
    from builder.prepare import prepare
    from builder.push_notes import push_notes

    prepared = prepare(options(project), "en+zh")
    push_notes(AnkiConnect(anki.url), prepared.deck, prepared.notes, prepared.media)
    return prepared


def with_aliases(note, *aliases):
    """The note of a card listing `aliases`, past load.py's checks (as a bug or a future loader
    might)."""
    return note.replace(card=note.card.replace(aliases=aliases))


@pytest.mark.parametrize("alias", ["*", "alph_", 'a"b', "a:b"])
def test_push_never_searches_for_a_value_that_is_not_a_slug(minimal, anki, alias):
    from builder.ankiconnect import AnkiConnect, AnkiConnectError
    from builder.push_notes import push_notes

    prepared = pushed_notes(minimal, anki)
    before = len(writes(anki))
    hostile = [with_aliases(prepared.notes[0], alias), *prepared.notes[1:]]
    with pytest.raises(AnkiConnectError, match="is not a card id"):
        push_notes(AnkiConnect(anki.url), prepared.deck, hostile, prepared.media)
    assert len(writes(anki)) == before


def test_push_of_a_source_alias_that_is_not_a_slug_fails_at_load(minimal, anki):
    card_file = minimal / "cards" / "cards.yaml"
    source = card_file.read_text()
    card_file.write_text(
        source.replace("  - id: bayes-theorem\n", "  - id: bayes-theorem\n    aliases: ['*']\n", 1)
    )
    assert card_file.read_text() != source
    result = push(minimal, anki.url)
    assert (
        result.exit_code == 1 and f"cards.yaml:5:15: MD113 alias '*' {NOT_A_SLUG}" in result.output
    )
    assert writes(anki) == []


def test_a_card_matching_two_notes_is_refused_and_nothing_written(minimal, anki):
    pushed_notes(minimal, anki)
    (original,) = anki.col.find_notes('"CardId:bayes-theorem"')
    copy = anki.col.new_note(anki.col.get_note(original).note_type())
    copy.fields = list(anki.col.get_note(original).fields)
    anki.col.add_note(copy, 1)
    card_file = minimal / "cards" / "cards.yaml"
    card_file.write_text(
        card_file.read_text().replace("Bayes' theorem", "Bayes' rule")
    )  # something to write
    before = len(writes(anki))

    result = push(minimal, anki.url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"card 'bayes-theorem' matches 2 notes in Anki (note ids {original}, {copy.id})"
        in result.output
    )
    assert "nothing was written" in result.output and len(writes(anki)) == before


def test_a_note_matched_by_two_cards_is_refused(minimal, anki):
    from builder.ankiconnect import AnkiConnect
    from builder.push_match import PushConflict
    from builder.push_notes import push_notes

    prepared = pushed_notes(minimal, anki)
    (bayes,) = anki.col.find_notes('"CardId:bayes-theorem"')
    second_claim = with_aliases(prepared.notes[1], "bayes-theorem")
    before = len(writes(anki))
    with pytest.raises(
        PushConflict,
        match=(
            rf"note {bayes} in Anki is matched by 2 cards \(bayes-theorem, "
            rf"{prepared.notes[1].card.id}\)"
        ),
    ):
        push_notes(
            AnkiConnect(anki.url),
            prepared.deck,
            [prepared.notes[0], second_claim, prepared.notes[2]],
            prepared.media,
        )
    assert len(writes(anki)) == before


# ---------------------------------------------------------------- pull --ankiconnect


def pull_ankiconnect(project: Path, url: str, *args: str):
    from builder.cli import app

    return RUNNER.invoke(
        app, ["pull", "--ankiconnect", url, "--cards", str(project / "cards"), *args]
    )


def test_pull_refuses_an_older_add_on_in_one_line(minimal, anki):
    anki.action_version = lambda: 5
    assert one_line_failure(pull_ankiconnect(minimal, anki.url)) == (
        "cannot pull: AnkiConnect API version 5 is too old: mathdeck needs 6 (update the add-on); "
        "nothing was written."
    )


def test_pull_sends_the_api_key(minimal, anki):
    def require_key(request):
        if request.get("key") == "secret":
            return None
        return http_answer(b'{"result": null, "error": "valid api key must be provided"}')

    anki.fault = require_key
    assert "valid api key must be provided" in one_line_failure(pull_ankiconnect(minimal, anki.url))
    pulled = pull_ankiconnect(minimal, anki.url, "--api-key", "secret")
    assert pulled.exit_code == 0, pulled.output
    assert "0 cards changed" in pulled.output


def test_pull_refuses_notes_info_without_the_keys_it_reads(minimal, anki):
    pushed_notes(minimal, anki)  # something for findNotes to find
    anki.fault = lambda request: (
        http_answer(b'{"result": [{"noteId": 1, "fields": {}}], "error": null}')
        if request["action"] == "notesInfo"
        else None
    )
    assert one_line_failure(pull_ankiconnect(minimal, anki.url)) == (
        "cannot pull: the answer to 'notesInfo' is not the list of dict (cards, fields, "
        'modelName, noteId, tags) AnkiConnect sends: [{"noteId": 1, "fields": {}}]; is it '
        "AnkiConnect?; nothing was written."
    )


def test_ctrl_c_while_anki_writes_says_what_was_written(minimal, anki):
    import os
    import signal

    def interrupt_the_notes(request):
        actions = request["params"].get("actions", []) if request["action"] == "multi" else []
        if any(action["action"] == "addNote" for action in actions):
            os.kill(os.getpid(), signal.SIGINT)  # the push waits for this answer: Ctrl-C there
        return None

    anki.fault = interrupt_the_notes
    result = push(minimal, anki.url)
    assert result.exit_code == 130 and "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith(
        "Push stopped part-way: interrupted. Already written: note types created: mathdeck "
        "formula, mathdeck qa, mathdeck code; 1 decks created. The answer to the last request "
        "(3 actions) never came, so some of those may have been written too."
    )


def test_a_connection_dropped_before_any_write_is_not_called_anki_not_running(minimal, anki):
    anki.fault = lambda request: DROP_AFTER_RUNNING if request["action"] == "multi" else None
    assert one_line_failure(push(minimal, anki.url)) == (
        f"Anki did not answer: the connection to {anki.url} failed (Remote end closed connection "
        "without response). Nothing was written."
    )
    assert writes(anki) == []
