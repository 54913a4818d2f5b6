"""A small AnkiConnect (API v6) server over a real collection of the official `anki` library.

Not a mock: every action runs on `anki.collection.Collection` with the calls the AnkiConnect
add-on makes (FooSoft/anki-connect, plugin/__init__.py), and answers on 127.0.0.1 the way the
add-on does: POST a JSON request, get `{"result": ..., "error": ...}`, one request at a time as
the add-on (Anki's main thread) does. Only the actions
`mathdeck push` uses are here. (The PyPI package anki-connect-server needs Python 3.12 and
FastAPI/uvicorn/fastmcp, and serves /api instead of /, so it does not fit this venv.)

    with AnkiConnectServer(tmp_path / "anki") as server:
        server.url, server.col
        server.fault = lambda request: ...   # malformed answers, dropped connections
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from anki.collection import Collection
from anki.consts import MODEL_CLOZE

DROP_AFTER_RUNNING = object()


class AnkiConnectServer:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.col = Collection(str(folder / "collection.anki2"))
        self.requests: list[str] = []  # action names, in order (multi's actions included)
        # Fault injection: fault(request) returns None (answer normally), raw bytes to send
        # instead of the answer, or DROP_AFTER_RUNNING (do the actions, then hang up unanswered).
        self.fault: Callable[[dict], bytes | object | None] | None = None
        # The real add-on's addNote files every card in Default (FooSoft/anki-connect#385).
        self.ignore_deck_name = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fault = server.fault(request) if server.fault else None
                if fault is not None:
                    if fault is DROP_AFTER_RUNNING:
                        server.handle(request)
                    else:
                        self.wfile.write(fault)  # raw bytes: whatever a broken server might send
                    self.close_connection = True
                    return
                body = json.dumps(server.handle(request)).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> AnkiConnectServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.col.close()

    def handle(self, request: dict) -> dict:
        action, params = request.get("action", ""), request.get("params", {})
        self.requests.append(action)
        try:
            method = getattr(self, f"action_{action}", None)
            if method is None:
                raise Exception("unsupported action")
            return {"result": method(**params), "error": None}
        except Exception as error:  # the add-on answers every failure this way
            return {"result": None, "error": str(error)}

    # ---------------------------------------------------------------- actions

    def action_version(self):
        return 6

    def action_multi(self, actions):
        return [self.handle(action) for action in actions]

    def action_modelNames(self):  # noqa: N802 (AnkiConnect's action names)
        return [entry.name for entry in self.col.models.all_names_and_ids()]

    def action_modelFieldNames(self, modelName):  # noqa: N802, N803
        return [field["name"] for field in self._model(modelName)["flds"]]

    def action_createModel(self, modelName, inOrderFields, cardTemplates, css=None, isCloze=False):  # noqa: N802, N803
        models = self.col.models
        if modelName in self.action_modelNames():
            raise Exception("Model name already exists")
        model = models.new(modelName)
        if isCloze:
            model["type"] = MODEL_CLOZE
        for name in inOrderFields:
            models.add_field(model, models.new_field(name))
        if css is not None:
            model["css"] = css
        for number, card in enumerate(cardTemplates, 1):
            template = models.new_template(card.get("Name", f"Card {number}"))
            template["qfmt"], template["afmt"] = card["Front"], card["Back"]
            models.add_template(model, template)
        models.add(model)
        return model

    def action_updateModelTemplates(self, model):  # noqa: N802
        anki_model = self._model(model["name"])
        for template in anki_model["tmpls"]:
            new = model["templates"].get(template["name"])
            if new:
                template["qfmt"] = new.get("Front") or template["qfmt"]
                template["afmt"] = new.get("Back") or template["afmt"]
        self.col.models.update_dict(anki_model)

    def action_updateModelStyling(self, model):  # noqa: N802
        anki_model = self._model(model["name"])
        anki_model["css"] = model["css"]
        self.col.models.update_dict(anki_model)

    def action_modelTemplates(self, modelName):  # noqa: N802, N803
        return {
            t["name"]: {"Front": t["qfmt"], "Back": t["afmt"]}
            for t in self._model(modelName)["tmpls"]
        }

    def action_modelStyling(self, modelName):  # noqa: N802, N803
        return {"css": self._model(modelName)["css"]}

    def action_deckNames(self):  # noqa: N802
        return [entry.name for entry in self.col.decks.all_names_and_ids()]

    def action_createDeck(self, deck):  # noqa: N802
        return self.col.decks.id(deck)

    def action_getMediaFilesNames(self, pattern="*"):  # noqa: N802
        return [path.name for path in Path(self.col.media.dir()).glob(pattern)]

    def action_storeMediaFile(self, filename, data):  # noqa: N802
        return self.col.media.write_data(filename, base64.b64decode(data))

    def action_findNotes(self, query=None):  # noqa: N802
        return [] if query is None else [int(note_id) for note_id in self.col.find_notes(query)]

    def action_findCards(self, query=None):  # noqa: N802
        return [] if query is None else [int(card_id) for card_id in self.col.find_cards(query)]

    def action_notesInfo(self, notes):  # noqa: N802
        result = []
        for note_id in notes:
            note = self.col.get_note(note_id)
            model = note.note_type()
            result.append(
                {
                    "noteId": note.id,
                    "tags": note.tags,
                    "fields": {
                        field["name"]: {"value": note.fields[field["ord"]], "order": field["ord"]}
                        for field in model["flds"]
                    },
                    "modelName": model["name"],
                    "cards": [card.id for card in note.cards()],
                }
            )
        return result

    def action_cardsInfo(self, cards):  # noqa: N802 (only the keys push reads)
        return [
            {
                "cardId": card_id,
                "note": (card := self.col.get_card(card_id)).nid,
                "deckName": self.col.decks.name(card.did),
            }
            for card_id in cards
        ]

    def action_changeDeck(self, cards, deck):  # noqa: N802
        self.col.set_deck(cards, self.col.decks.id(deck))

    def action_addNote(self, note):  # noqa: N802
        model = self._model(note["modelName"])
        deck_id = self.col.decks.id_for_name(
            "Default" if self.ignore_deck_name else note["deckName"]
        )
        if deck_id is None:
            raise Exception(f"deck was not found: {note['deckName']}")
        anki_note = self.col.new_note(model)
        for name, value in note["fields"].items():
            if name in anki_note:
                anki_note[name] = value
        anki_note.tags = note.get("tags", [])
        if not note.get("options", {}).get("allowDuplicate") and anki_note.fields_check() == 2:
            raise Exception("cannot create note because it is a duplicate")
        self.col.add_note(anki_note, deck_id)
        return anki_note.id

    def action_updateNoteFields(self, note):  # noqa: N802
        anki_note = self.col.get_note(note["id"])
        for name, value in note["fields"].items():
            if name in anki_note:
                anki_note[name] = value
        self.col.update_note(anki_note)

    def action_addTags(self, notes, tags, add=True):  # noqa: N802
        self.col.tags.bulk_add(notes, tags)

    def _model(self, name: str) -> dict:
        model = self.col.models.by_name(name)
        if model is None:
            raise Exception(f"model was not found: {name}")
        return model
