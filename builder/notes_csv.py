"""The notes as a text file that Anki's own importer reads (File ▸ Import, Anki 2.1.55 or later).

Header lines tell Anki everything (https://docs.ankiweb.net/importing/text-files.html): tab
separated, fields are HTML, and per row the note type, the deck, the tags and the GUID. The GUID
is the .apkg's, so importing the file again, or after the .apkg, updates notes instead of adding
copies. Anki creates missing decks but not note types: import the .apkg once (or `mathdeck push`)
to create them. The note fields follow the four fixed columns, in the note type's order.
"""

from __future__ import annotations

import csv
import io

from .identity import guid_for_card
from .model import Deck
from .package import note_models, subdeck_name
from .render import RenderedNote, note_type_templates

FIXED_COLUMNS = ("notetype", "deck", "tags", "guid")


def notes_csv(deck: Deck, notes: list[RenderedNote]) -> str:
    models = note_models(deck, note_type_templates())
    buffer = io.StringIO()
    buffer.write("#separator:tab\n#html:true\n")
    for number, name in enumerate(FIXED_COLUMNS, 1):
        buffer.write(f"#{name} column:{number}\n")
    # Anki's reader is the Rust csv crate: RFC 4180 quoting, so tabs, quotes and newlines in
    # field HTML survive inside double quotes.
    writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    for note in notes:
        card = note.card
        row = [
            models[card.kind].name,
            subdeck_name(deck, note.subdeck),
            " ".join(note.tags),
            guid_for_card(card),
        ]
        writer.writerow(row + list(note.fields))
    return buffer.getvalue()
