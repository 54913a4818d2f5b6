"""genanki_layout: what the package takes from genanki, as plain data made once per note types.

package_collection.py writes genanki's collection row for row (tests/test_package.py holds the
bytes equal to genanki's own). What it needs from genanki (the SQL of an empty collection, the
deck and note-type JSON, each note type's required fields, the pattern of the tags genanki warns
about) depends only on the note types and genanki's version. It is made here, with genanki, and
the build keeps it in its cache (memo.py): a rebuild after an edit neither imports genanki
(0.055 s of CPU) nor renders every template again to find its required fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .model import KINDS, Deck
from .records import Record

if TYPE_CHECKING:
    import genanki

    from .render import NoteTypeTemplates


class GenankiLayout(Record):
    """Plain data (the build's cache keeps it with marshal)."""

    __slots__ = field_names = ("schema", "col", "deck", "note_types", "invalid_html")
    schema: Final[str]  # genanki's APKG_SCHEMA: the tables and indexes
    col: Final[str]  # genanki's APKG_COL: the col row
    deck: Final[dict]  # genanki.Deck.to_json() of a deck with no id, name or description
    # kind -> genanki.Model.to_json(): its "mod" and "did" set per deck
    note_types: Final[dict[str, dict]]
    invalid_html: Final[
        str
    ]  # genanki.Note._INVALID_HTML_TAG_RE's pattern: genanki warns on a match

    def __init__(
        self, schema: str, col: str, deck: dict, note_types: dict[str, dict], invalid_html: str
    ) -> None:
        self.schema = schema
        self.col = col
        self.deck = deck
        self.note_types = note_types
        self.invalid_html = invalid_html

    def to_plain(self) -> tuple:
        import copy

        return copy.deepcopy(self.as_tuple())  # a copy, as dataclasses.astuple made

    @classmethod
    def from_plain(cls, plain: tuple) -> GenankiLayout:
        return cls(*plain)


def genanki_layout(deck: Deck, templates: dict[str, NoteTypeTemplates]) -> GenankiLayout:
    import genanki
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    return GenankiLayout(
        schema=APKG_SCHEMA,
        col=APKG_COL,
        deck=genanki.Deck(0, "").to_json(),
        note_types={
            kind: model.to_json(0, 0) for kind, model in note_models(deck, templates).items()
        },
        invalid_html=genanki.Note._INVALID_HTML_TAG_RE.pattern,
    )


def note_models(deck: Deck, templates: dict[str, NoteTypeTemplates]) -> dict[str, genanki.Model]:
    """The note type of every kind deck.yaml gives an id (load makes sure each kind in use has
    one), with the templates and CSS render.note_type_templates made."""
    import genanki  # only when the layout is made: a rebuild takes it from the cache

    models = {}
    for kind in KINDS.values():
        if kind.name not in deck.config.note_type_ids:
            continue
        rendered = templates[kind.name]
        models[kind.name] = genanki.Model(
            deck.config.note_type_ids[kind.name],
            kind.note_type_name,
            fields=[{"name": name} for name in kind.note_fields],
            templates=[
                {"name": name, "qfmt": front, "afmt": back}
                for name, front, back in rendered.templates
            ],
            css=rendered.css,
            sort_field_index=0,
            model_type=genanki.Model.CLOZE if kind.is_cloze else genanki.Model.FRONT_BACK,
        )
    return models
