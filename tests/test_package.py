"""package: deterministic bytes, atomic and versioned output that never clobbers a release; an edit
goes to the development build, with no flag."""

from __future__ import annotations

import zipfile

import pytest

from builder.problems import SourceError
from builds import MINIMAL, build_in, copy_sources, set_version


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


def test_same_sources_and_epoch_give_identical_bytes(tmp_path, epoch):
    copy_sources(MINIMAL, tmp_path / "a")
    copy_sources(MINIMAL, tmp_path / "b")
    first, second = build_in(tmp_path / "a"), build_in(tmp_path / "b")
    assert (
        first.path.name == second.path.name == "ml-math-cheatsheet-0.1.0+dev.apkg"
    )  # 0.1.0 is not released
    assert first.path.read_bytes() == second.path.read_bytes()


def test_zip_entries_carry_fixed_dates_and_modes(tmp_path, epoch):
    copy_sources(MINIMAL, tmp_path / "a")
    result = build_in(tmp_path / "a")
    with zipfile.ZipFile(result.path) as apkg:
        infos = apkg.infolist()
        assert infos[0].filename == "collection.anki2"
        assert {i.date_time for i in infos} == {(2025, 11, 24, 16, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o644}


def test_rebuilding_unchanged_sources_leaves_file_alone(tmp_path, epoch):
    copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a")
    before = first.path.stat().st_mtime_ns
    again = build_in(tmp_path / "a")
    assert again.status == "unchanged" and first.path.stat().st_mtime_ns == before


def test_an_edit_goes_to_the_dev_build_and_never_touches_the_release(tmp_path, epoch, monkeypatch):
    project = tmp_path / "a"
    cards = copy_sources(MINIMAL, project)
    released = build_in(project, release="minor")
    kept = project / "releases" / "ml-math-cheatsheet-0.2.0.apkg"
    assert released.path.name == kept.name and kept.read_bytes() == released.path.read_bytes()
    again = build_in(project)  # unchanged sources: the release itself, untouched
    assert again.path == released.path and again.status == "unchanged"

    (cards / "cards.yaml").write_text(
        (cards / "cards.yaml").read_text().replace("Bayes' theorem", "Bayes' rule")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    dev = build_in(project)  # no flag
    assert dev.path.name == "ml-math-cheatsheet-0.2.0+dev.apkg" and dev.status == "written"
    (cards / "cards.yaml").write_text(
        (cards / "cards.yaml").read_text().replace("Bayes' rule", "Bayes' law")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000200")
    second = build_in(project)
    assert second.path == dev.path and second.status == "replaced"
    assert (
        released.path.read_bytes() == kept.read_bytes() != second.path.read_bytes()
    )  # the release is untouched
    assert not [p for p in project.rglob(".*.tmp")]  # no temp files left


def _collection_level(apkg):
    """The zlib level whose raw deflate of the collection gives the bytes stored in `apkg`."""
    import struct
    import zlib

    with zipfile.ZipFile(apkg) as package:
        info = package.getinfo("collection.anki2")
        collection = package.read(info)
    with open(apkg, "rb") as raw:
        raw.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", raw.read(4))
        raw.seek(name_length + extra_length, 1)
        stored = raw.read(info.compress_size)
    levels = []
    for level in range(1, 10):
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
        if deflate.compress(collection) + deflate.flush() == stored:
            levels.append(level)
    return levels


def test_a_development_build_is_compressed_faster_than_a_release(tmp_path, epoch, monkeypatch):
    """A release, and a build of exactly its notes, keep level 9 (releases/ is rebuilt byte for
    byte); the edit loop's development builds are deflated at level 1."""
    from builder.package import DEV_ZIP_LEVEL, RELEASE_ZIP_LEVEL

    project = tmp_path / "a"
    cards = copy_sources(MINIMAL, project)
    first = build_in(project)  # nothing released yet: a development build
    assert first.path.name.endswith("+dev.apkg")
    assert DEV_ZIP_LEVEL in _collection_level(first.path)
    released = build_in(project, release="minor")
    assert RELEASE_ZIP_LEVEL in _collection_level(released.path)
    assert DEV_ZIP_LEVEL not in _collection_level(released.path)
    released.path.unlink()
    again = build_in(project)  # the release's notes: its name and bytes again
    assert (
        again.path == released.path
        and again.path.read_bytes() == (project / "releases" / released.path.name).read_bytes()
    )
    (cards / "cards.yaml").write_text(
        (cards / "cards.yaml").read_text().replace("Bayes' theorem", "Bayes' rule")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    edited = build_in(project)
    assert edited.path.name.endswith("+dev.apkg")
    assert DEV_ZIP_LEVEL in _collection_level(edited.path)
    assert RELEASE_ZIP_LEVEL not in _collection_level(edited.path)


def test_a_kept_release_is_never_replaced(tmp_path, epoch):
    project = tmp_path / "a"
    copy_sources(MINIMAL, project)
    kept = project / "releases" / "ml-math-cheatsheet-0.1.1.apkg"
    kept.parent.mkdir()
    kept.write_bytes(b"someone else's 0.1.1")
    with pytest.raises(SourceError) as error:
        build_in(project, release="patch")
    assert "releases/ml-math-cheatsheet-0.1.1.apkg already exists with different content" in str(
        error.value.problems[0]
    )
    assert kept.read_bytes() == b"someone else's 0.1.1" and not (project / "CHANGELOG.md").exists()


def test_a_version_not_released_builds_its_dev_file(tmp_path, epoch):
    cards = copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a")
    set_version(cards, "1.0.0")
    second = build_in(tmp_path / "a")
    assert second.path.name == "ml-math-cheatsheet-1.0.0+dev.apkg" and first.path.exists()


# ------------------------------------------------------------ the collection, as genanki writes it


def genanki_package_bytes(deck, notes, lock, media) -> bytes:
    """What package_bytes made before it wrote the rows itself: genanki.Package.write_to_file
    with one genanki.Note per note, then the zip rewritten with fixed dates and modes."""
    import io
    import tempfile
    import time
    from pathlib import Path

    import genanki

    from builder.identity import guid_for_card
    from builder.package import ZIP_EPOCH_MIN, note_models, subdeck_id, subdeck_name
    from builder.render import note_type_templates, render_description

    class StampedNote(genanki.Note):
        def __init__(self, modified, **kwargs):
            super().__init__(**kwargs)
            self.modified = modified

        def write_to_db(self, cursor, timestamp, deck_id, id_gen):
            super().write_to_db(cursor, self.modified, deck_id, id_gen)

    models = note_models(deck, note_type_templates())
    decks = {
        "": genanki.Deck(
            deck.config.deck_id, deck.config.title, description=render_description(deck)
        )
    }
    newest = max((lock.notes[guid_for_card(n.card)].modified for n in notes), default=ZIP_EPOCH_MIN)
    for note in notes:
        if note.subdeck not in decks:
            decks[note.subdeck] = genanki.Deck(
                subdeck_id(deck, note.subdeck), subdeck_name(deck, note.subdeck)
            )
        guid = guid_for_card(note.card)
        decks[note.subdeck].add_note(
            StampedNote(
                lock.notes[guid].modified,
                model=models[note.card.kind],
                fields=list(note.fields),
                tags=list(note.tags),
                guid=guid,
            )
        )
    package = genanki.Package(
        list(decks.values()), media_files=[str(p) for p in sorted(media, key=lambda p: p.name)]
    )
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.apkg"
        package.write_to_file(str(raw), timestamp=newest)
        out = io.BytesIO()
        with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
            for name in source.namelist():
                info = zipfile.ZipInfo(name, date_time=time.gmtime(max(newest, ZIP_EPOCH_MIN))[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3
                target.writestr(info, source.read(name), compresslevel=9)
        return out.getvalue()


def _same_package_as_genanki(project):
    from builder.identity import read_lock
    from builder.package import package_bytes
    from builder.render import note_type_templates, render_description

    result = build_in(project)
    lock = read_lock(project / "cards")
    assert package_bytes(
        result.deck,
        result.notes,
        lock,
        result.media,
        render_description(result.deck),
        note_type_templates(),
    ) == genanki_package_bytes(result.deck, result.notes, lock, result.media)
    return result


def test_collection_rows_are_genankis_byte_for_byte(tmp_path, epoch):
    """Many subdecks (genanki rewrites the deck and note-type JSON for each), every kind, cloze."""
    from builder.bench_decks import write_synthetic_project

    project = tmp_path / "synthetic"
    cards = write_synthetic_project(project, 60, per_file=7)
    (cards / "cloze.yaml").write_text(
        "subdeck: Clozes\ncards:\n  - id: cloze-one\n    kind: cloze\n"
        "    text: 'The {{c1::mean}} of $X$ is {{c2::$\\mu$}}; "
        "its {{c3::variance}} is $\\sigma^2$.'\n"
    )
    result = _same_package_as_genanki(project)
    assert len({note.subdeck for note in result.notes}) == 10


def test_flagship_package_is_genankis_byte_for_byte(tmp_path, epoch):
    """Figures (media), retired cards and the flagship's own subdecks."""
    from builds import copy_flagship

    result = _same_package_as_genanki(copy_flagship(tmp_path / "flagship"))
    assert result.media


def test_guids_are_genankis():
    import genanki
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from builder.identity import _guid_for_id

    @settings(max_examples=500, deadline=None)
    @given(st.text())
    def same(card_id):
        assert _guid_for_id(card_id) == genanki.guid_for(card_id)

    same()


def test_lock_text_is_json_dumps_with_indent_1():
    import json

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from builder.identity import Lock, LockEntry, lock_text

    entries = st.dictionaries(
        st.text(), st.builds(LockEntry, st.text(), st.text(), st.integers(0, 2**40)), max_size=5
    )

    @settings(max_examples=300, deadline=None)
    @given(entries)
    def same(notes):
        lock = Lock(notes)
        data = {
            "format": 1,
            "notes": {
                guid: entry.as_dict()
                for guid, entry in sorted(notes.items(), key=lambda item: item[1].id)
            },
        }
        assert lock_text(lock) == json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    same()


# ---------------------------------------------------------------- the package cache


def test_an_unchanged_rebuild_takes_the_package_from_the_cache_and_an_edit_writes_it_again(
    tmp_path, epoch, monkeypatch
):
    import builder.package  # memo imports package_bytes from it when it packages

    cards = copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a").path.read_bytes()
    written = []
    original = builder.package.package_bytes
    monkeypatch.setattr(
        builder.package,
        "package_bytes",
        lambda *args, **kwargs: written.append(1) or original(*args, **kwargs),
    )
    again = build_in(tmp_path / "a")
    assert again.status == "unchanged" and not written
    (cards / "cards.yaml").write_text(
        (cards / "cards.yaml").read_text().replace("Bayes' theorem", "Bayes' rule")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    edited = build_in(tmp_path / "a", force=True)
    assert written == [1] and edited.path.read_bytes() != first


def test_a_package_cache_entry_with_a_flipped_byte_is_never_shipped(tmp_path, epoch):
    import marshal

    copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a")
    cold = first.path.read_bytes()
    [shard] = (tmp_path / "a" / ".cache" / "build" / "package").glob("*.marshal")
    header, generation, entries = marshal.loads(shard.read_bytes())
    [(key, (used, digest, value))] = entries.items()
    stored = bytearray(value)
    stored[len(stored) // 2] ^= 0x01
    shard.write_bytes(marshal.dumps((header, generation, {key: (used, digest, bytes(stored))})))
    first.path.unlink()  # so the build writes it again, from the cache entry or afresh
    assert build_in(tmp_path / "a").path.read_bytes() == cold


# ---------------------------------------------------------------- genanki's layout, kept as data


def test_a_rebuild_after_an_edit_does_not_import_genanki(tmp_path, epoch):
    """genanki's schema, JSON and required fields come from the build's cache (genanki_layout.py):
    only a cold build (or new note types) imports genanki."""
    import os
    import subprocess
    import sys

    from builds import REPO

    cards = copy_sources(MINIMAL, tmp_path / "a")
    build_in(tmp_path / "a")
    (cards / "cards.yaml").write_text(
        (cards / "cards.yaml").read_text().replace("Bayes' theorem", "Bayes' rule")
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": "1764000100"}
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "builder.cli", "build"],
        cwd=tmp_path / "a",
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "changed: " in run.stdout  # the edit was built
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert "builder.package" in imported and "genanki" not in imported


def test_invalid_html_in_a_rendered_field_is_still_genankis_warning(tmp_path, epoch):
    from builder.identity import read_lock
    from builder.package import package_bytes
    from builder.render import note_type_templates

    copy_sources(MINIMAL, tmp_path / "a")
    result = build_in(tmp_path / "a")
    first = result.notes[0]
    broken = first.replace(
        fields=(first.fields[0] + "1 < 2 > 0", *first.fields[1:]), from_cache=False
    )
    with pytest.warns(UserWarning, match="invalid HTML tags"):
        package_bytes(
            result.deck,
            [broken, *result.notes[1:]],
            read_lock(tmp_path / "a" / "cards"),
            result.media,
            "",
            note_type_templates(),
        )
