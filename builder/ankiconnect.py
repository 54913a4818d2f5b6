"""push: the built notes into a running Anki through AnkiConnect (add-on 2055492159, API v6).

A note is found by its CardId field (`CardId:<id>`, or an old id the card still lists under
`aliases`), so a second push updates notes in place; only notes whose fields differ are
written. A retired card updates its note (banner, `retired` tag) but never adds one. Like an .apkg import, a push never moves cards between decks, never removes a tag the
learner added, never deletes a note and never touches scheduling. Notes pushed here and notes
imported from the .apkg are the same notes to the next push: both carry CardId.

Note types are created with `createModel` when missing (named as in the .apkg) and their
templates and CSS brought up to date; decks with `createDeck`; figures with `storeMediaFile`.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .model import KINDS, Deck

if TYPE_CHECKING:  # cli.py imports this module through push.py: keep `mathdeck --help` quick
    from .render import RenderedNote

DEFAULT_URL = "http://127.0.0.1:8765"
API_VERSION = 6
BATCH = 200  # actions per `multi` request: one round trip each, small enough for Anki's UI thread


class AnkiNotRunning(Exception):
    """Nothing answered at the AnkiConnect address."""


class AnkiConnectError(Exception):
    """AnkiConnect answered with an error (or something that is not AnkiConnect answered)."""


class AnkiConnect:
    """A minimal AnkiConnect client: `call(action, **params)` and batched `multi`."""

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = 60):
        self.url, self.key, self.timeout = url, key, timeout

    def call(self, action: str, **params):
        return self._answer(action, self._post(self._request(action, params)))

    def multi(self, actions: list[tuple[str, dict]]) -> list:
        results = []
        for start in range(0, len(actions), BATCH):
            batch = actions[start:start + BATCH]
            answers = self.call("multi", actions=[self._request(action, params) for action, params in batch])
            results += [self._answer(action, answer) for (action, _), answer in zip(batch, answers, strict=True)]
        return results

    def require_version(self) -> int:
        version = self.call("version")
        if not isinstance(version, int) or version < API_VERSION:
            raise AnkiConnectError(f"AnkiConnect API version {version} is too old: mathdeck needs {API_VERSION} (update the add-on)")
        return version

    def _request(self, action: str, params: dict) -> dict:
        request = {"action": action, "version": API_VERSION, "params": params}
        if self.key:
            request["key"] = self.key
        return request

    def _post(self, request: dict):
        data = json.dumps(request).encode("utf-8")
        http = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise AnkiConnectError(f"{self.url} answered HTTP {error.code}: is it AnkiConnect?") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            raise AnkiNotRunning(f"nothing answered at {self.url} ({reason})") from None
        except json.JSONDecodeError:
            raise AnkiConnectError(f"{self.url} did not answer in JSON: is it AnkiConnect?") from None

    @staticmethod
    def _answer(action: str, answer):
        # API v6 wraps every answer as {"result", "error"}; inside `multi` some versions do not.
        if isinstance(answer, dict) and set(answer) == {"result", "error"}:
            if answer["error"] is not None:
                raise AnkiConnectError(f"{action}: {answer['error']}")
            return answer["result"]
        return answer


@dataclass
class PushResult:
    added: list[str] = field(default_factory=list)  # card ids
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    note_types_created: list[str] = field(default_factory=list)
    media_stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # card ids found on more than one note


def push_notes(client: AnkiConnect, deck: Deck, notes: list[RenderedNote], media: list[Path]) -> PushResult:
    from .package import note_models

    result = PushResult()
    client.require_version()
    used = {note.card.kind for note in notes}
    models = {kind: model for kind, model in note_models(deck).items() if kind in used}
    result.note_types_created = _ensure_note_types(client, models)
    _ensure_decks(client, deck, notes)
    result.media_stored = _store_media(client, media)
    existing = _find_existing(client, notes)
    _write_notes(client, deck, notes, existing, models, result)
    return result


def _ensure_note_types(client: AnkiConnect, models: dict) -> list[str]:
    present = set(client.call("modelNames"))
    created, actions = [], []
    for kind_name, model in models.items():
        templates = [{"Name": t["name"], "Front": t["qfmt"], "Back": t["afmt"]} for t in model.templates]
        if model.name not in present:
            client.call(
                "createModel", modelName=model.name, inOrderFields=[f["name"] for f in model.fields],
                css=model.css, isCloze=KINDS[kind_name].is_cloze, cardTemplates=templates,
            )
            created.append(model.name)
            continue
        fields = client.call("modelFieldNames", modelName=model.name)
        expected = [f["name"] for f in model.fields]
        if fields != expected:
            raise AnkiConnectError(
                f"note type '{model.name}' in Anki has the fields {fields}, mathdeck needs {expected}: "
                "rename or delete that note type in Anki (Tools ▸ Manage Note Types), then push again"
            )
        actions.append(("updateModelTemplates", {"model": {"name": model.name, "templates": {
            t["Name"]: {"Front": t["Front"], "Back": t["Back"]} for t in templates}}}))
        actions.append(("updateModelStyling", {"model": {"name": model.name, "css": model.css}}))
    client.multi(actions)
    return created


def _ensure_decks(client: AnkiConnect, deck: Deck, notes: list[RenderedNote]) -> None:
    from .package import subdeck_name

    names = sorted({subdeck_name(deck, note.subdeck) for note in notes})
    present = set(client.call("deckNames"))
    client.multi([("createDeck", {"deck": name}) for name in names if name not in present])


def _store_media(client: AnkiConnect, media: list[Path]) -> list[str]:
    # Media names carry a hash of their content (figures.py): a name already there is this file.
    present = set(client.call("getMediaFilesNames", pattern="mathdeck-*"))
    missing = [path for path in media if path.name not in present]
    client.multi([
        ("storeMediaFile", {"filename": path.name, "data": base64.b64encode(path.read_bytes()).decode("ascii")})
        for path in missing
    ])
    return [path.name for path in missing]


def _find_existing(client: AnkiConnect, notes: list[RenderedNote]) -> list[list[dict]]:
    """For each note, the notes in Anki whose CardId is its id or one of its aliases."""
    queries = [" OR ".join(f'"CardId:{card_id}"' for card_id in (note.card.id, *note.card.aliases)) for note in notes]
    found = client.multi([("findNotes", {"query": f"({query})"}) for query in queries])
    ids = sorted({note_id for note_ids in found for note_id in note_ids})
    info = {entry["noteId"]: entry for entry in client.call("notesInfo", notes=ids) if entry} if ids else {}
    return [[info[note_id] for note_id in note_ids if note_id in info] for note_ids in found]


def _write_notes(client, deck: Deck, notes: list[RenderedNote], existing: list[list[dict]], models: dict, result: PushResult) -> None:
    from .package import subdeck_name

    actions = []
    for note, matches in zip(notes, existing, strict=True):
        card = note.card
        fields = dict(zip(KINDS[card.kind].note_fields, note.fields, strict=True))
        if not matches and card.retired:
            continue  # a retired card's note only exists to be deleted: never add one
        if not matches:
            actions.append(("addNote", {"note": {
                "deckName": subdeck_name(deck, note.subdeck), "modelName": models[card.kind].name,
                "fields": fields, "tags": list(note.tags), "options": {"allowDuplicate": True},
            }}))
            result.added.append(card.id)
            continue
        if len(matches) > 1:
            result.duplicates.append(card.id)
        changed = False
        for match in matches:
            current = {name: value["value"] for name, value in match["fields"].items()}
            if current != fields:
                actions.append(("updateNoteFields", {"note": {"id": match["noteId"], "fields": fields}}))
                changed = True
            missing_tags = sorted(set(note.tags) - set(match["tags"]))
            if missing_tags:
                actions.append(("addTags", {"notes": [match["noteId"]], "tags": " ".join(missing_tags)}))
                changed = True
        (result.updated if changed else result.unchanged).append(card.id)
    client.multi(actions)
