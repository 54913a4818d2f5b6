"""A minimal client for AnkiConnect (add-on 2055492159, API v6): `call(action, **params)` and
batched `multi`, with every way a connection or an answer can go wrong turned into one of two
exceptions that carry a one-line message. What mathdeck sends with it: push_plan.py, push_notes.py.
"""

from __future__ import annotations

import json
import re
import urllib.parse

DEFAULT_URL = "http://127.0.0.1:8765"
API_VERSION = 6
BATCH = 200  # actions per `multi` request: one round trip each, small enough for Anki's UI thread
# Seconds to wait for an answer: a batch of 200 notes takes Anki a few seconds at most.
TIMEOUT = 60
# The type of each answer mathdeck reads, as AnkiConnect sends it: another server (an old or
# partial AnkiConnect, something else on the port) answering otherwise is said to be one, not a
# crash in the code that reads the answer.
RESULT_TYPES: dict[str, type] = {
    "version": int,
    "modelNames": list,
    "modelFieldNames": list,
    "modelTemplates": dict,
    "modelStyling": dict,
    "deckNames": list,
    "getMediaFilesNames": list,
    "findNotes": list,
    "findCards": list,
    "notesInfo": list,
    "cardsInfo": list,
    "areSuspended": list,
}
# ...and of each item of a list: notesInfo and cardsInfo are about one note or card each.
ITEM_TYPES: dict[str, type] = {
    "findNotes": int,
    "findCards": int,
    "notesInfo": dict,
    "cardsInfo": dict,
}
# ...and the keys mathdeck reads of each (an empty one: a note deleted since it was found).
ITEM_KEYS: dict[str, frozenset[str]] = {
    "notesInfo": frozenset({"noteId", "modelName", "fields", "tags", "cards"}),
    "cardsInfo": frozenset({"cardId", "note", "deckName"}),
}

# Anki's search syntax gives these a meaning even inside double quotes: `*` and `_` are
# wildcards, `:` separates a field from its value, `"` ends the term, `\` escapes.
SEARCH_SPECIALS = re.compile(r'([\\"*_:])')


class AnkiNotRunning(Exception):
    """Nothing answered at the AnkiConnect address (or the connection dropped)."""


class AnkiNotAnswering(AnkiNotRunning):
    """Something accepted the connection but sent no answer in time."""


class AnkiConnectionLost(AnkiNotRunning):
    """Something accepted the connection, then closed it without an answer."""


class AnkiConnectError(Exception):
    """AnkiConnect answered with an error, or something answered that is not AnkiConnect."""


class BadUrl(ValueError):
    """--url is not an http(s) address."""


def check_url(url: str, given_as: str = "--url") -> None:
    """BadUrl unless `url` is an http(s) address; the message names where it came from."""
    parts = urllib.parse.urlsplit(url)
    example = f"an http:// address such as {DEFAULT_URL}"
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or re.search(r"[\s\x00-\x1f\x7f]", url)
    ):
        raise BadUrl(f"{given_as} '{url}' is not {example}")
    try:
        _ = parts.port  # urllib checks the port's range only when asked
    except ValueError:
        raise BadUrl(f"{given_as} '{url}' has no valid port: {example}") from None


def search_literal(value: str) -> str:
    """`value` escaped so that an Anki search matches exactly this text (no wildcards)."""
    return SEARCH_SPECIALS.sub(r"\\\1", value)


def field_search(field_name: str, value: str) -> str:
    """The search for notes whose field `field_name` is exactly `value`, quoted and escaped."""
    return f'"{field_name}:{search_literal(value)}"'


class AnkiConnect:
    def __init__(
        self, url: str = DEFAULT_URL, key: str | None = None, timeout: float | None = None
    ):
        check_url(url)
        self.url, self.key, self.timeout = url, key, TIMEOUT if timeout is None else timeout

    def call(self, action: str, **params):
        result, error = _unwrap(action, self._post(self._request(action, params)))
        if error is not None:
            raise AnkiConnectError(f"{action}: {error}")
        return result

    def multi(self, actions: list[tuple[str, dict]]) -> list:
        """Every action's result, in batches; the first action that failed raises."""
        results = []
        for start in range(0, len(actions), BATCH):
            batch = actions[start : start + BATCH]
            for (action, _), (result, error) in zip(batch, self.multi_answers(batch), strict=True):
                if error is not None:
                    raise AnkiConnectError(f"{action}: {error}")
                results.append(result)
        return results

    def multi_answers(self, actions: list[tuple[str, dict]]) -> list[tuple[object, str | None]]:
        """One `multi` request: (result, error) per action. Anki runs every action, even after one
        fails."""
        if not actions:
            return []
        answers = self.call(
            "multi", actions=[self._request(action, params) for action, params in actions]
        )
        if not isinstance(answers, list) or len(answers) != len(actions):
            count = len(answers) if isinstance(answers, list) else type(answers).__name__
            raise AnkiConnectError(
                f"{self.url} answered a multi request of {len(actions)} actions "
                f"with {count} answers: is it AnkiConnect?"
            )
        return [
            _unwrap(action, answer) for (action, _), answer in zip(actions, answers, strict=True)
        ]

    def require_version(self) -> int:
        version = self.call("version")
        if version < API_VERSION:
            raise AnkiConnectError(
                f"AnkiConnect API version {version} is too old: "
                f"mathdeck needs {API_VERSION} (update the add-on)"
            )
        return version

    def _request(self, action: str, params: dict) -> dict:
        request = {"action": action, "version": API_VERSION, "params": params}
        if self.key:
            request["key"] = self.key
        return request

    def _post(self, request: dict):
        # Imported here: urllib.request and http.client (with the email package) cost every
        # mathdeck command ~40 ms of start-up, and only push talks to Anki.
        import http.client
        import urllib.error
        import urllib.request

        data = json.dumps(request).encode("utf-8")
        http_request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise AnkiConnectError(
                f"{self.url} answered HTTP {error.code}: is it AnkiConnect?"
            ) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._no_answer() from None
            raise AnkiNotRunning(f"nothing answered at {self.url} ({error.reason})") from None
        except TimeoutError:
            raise self._no_answer() from None
        except ConnectionError as error:  # connected (urlopen wraps a refusal), then dropped
            raise AnkiConnectionLost(
                f"the connection to {self.url} failed ({error or type(error).__name__})"
            ) from None
        except http.client.HTTPException as error:  # a bad status line, a truncated body...
            reason = type(error).__name__
            raise AnkiConnectError(
                f"{self.url} sent a malformed HTTP answer ({reason}): is it AnkiConnect?"
            ) from None
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise AnkiConnectError(
                f"{self.url} answered with bytes that are not UTF-8 text: is it AnkiConnect?"
            ) from None
        except json.JSONDecodeError:
            raise AnkiConnectError(
                f"{self.url} did not answer in JSON: is it AnkiConnect?"
            ) from None

    def _no_answer(self) -> AnkiNotAnswering:
        return AnkiNotAnswering(
            f"{self.url} accepted the connection but sent no answer in {self.timeout:g} s "
            "(is Anki busy, or waiting for you in a dialog?)"
        )


def _unwrap(action: str, answer) -> tuple[object, str | None]:
    """API v6 wraps every answer, inside `multi` too, as {"result": ..., "error": ...}."""
    if not isinstance(answer, dict) or set(answer) != {"result", "error"}:
        raise AnkiConnectError(
            f"the answer to '{action}' is not AnkiConnect's {{result, error}}: {str(answer)[:80]}"
        )
    result, error = answer["result"], answer["error"]
    if error is None:
        _require_type(action, result)
    return result, (None if error is None else str(error))


def _require_type(action: str, result: object) -> None:
    expected, item = RESULT_TYPES.get(action), ITEM_TYPES.get(action)
    if expected is None:
        return
    wrong = not isinstance(result, expected) or isinstance(result, bool)
    if not wrong and item is not None:
        keys = ITEM_KEYS.get(action, frozenset())
        wrong = not all(_fits(entry, item, keys) for entry in result)  # type: ignore[attr-defined]
    if wrong:
        kind = expected.__name__ if item is None else f"list of {item.__name__}"
        if action in ITEM_KEYS:
            kind += f" ({', '.join(sorted(ITEM_KEYS[action]))})"
        raise AnkiConnectError(
            f"the answer to '{action}' is not the {kind} AnkiConnect sends: "
            f"{json.dumps(result)[:80]}; is it AnkiConnect?"
        )


def _fits(entry: object, item: type, keys: frozenset[str]) -> bool:
    """An item of an answer: of the type AnkiConnect sends, with the keys mathdeck reads (or
    empty, as notesInfo answers for a note deleted since it was found)."""
    if not isinstance(entry, item):
        return False
    return not isinstance(entry, dict) or not entry or keys <= entry.keys()
