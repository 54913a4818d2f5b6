"""The floor of `mathdeck bench`: a bare genanki script, run as its own process, writing the notes
a build made (same note types, fields, tags, GUIDs, subdecks and media) from a JSON file.

    python builder/bench_floor.py NOTES.json OUT.apkg

It is what any genanki-based tool pays at the least: the interpreter, genanki, SQLite and the
zip. It imports nothing from mathdeck. `bench_runs.floor_input` writes NOTES.json from a
built .apkg.
"""

import json
import sys

import genanki


def main(notes_json: str, out: str) -> None:
    with open(notes_json, encoding="utf-8") as source:
        data = json.load(source)
    models = {
        mid: genanki.Model(
            int(mid),
            m["name"],
            fields=m["fields"],
            templates=m["templates"],
            css=m["css"],
            model_type=m["type"],
        )
        for mid, m in data["models"].items()
    }
    decks = {did: genanki.Deck(int(did), name) for did, name in data["decks"].items()}
    for mid, did, guid, fields, tags in data["notes"]:
        decks[did].add_note(genanki.Note(model=models[mid], fields=fields, tags=tags, guid=guid))
    genanki.Package(list(decks.values()), media_files=data["media"]).write_to_file(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
