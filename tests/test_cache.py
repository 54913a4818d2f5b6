"""The build caches (builder/cache.py): a rebuild redoes only what changed, and a cache never
changes a byte of the output: cold, warm, edited, damaged or stale, the .apkg and the lock are
those of a build with no cache at all."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import check_math, mathjax, mathjax_install
from builder.bench_decks import edit_one_card, write_synthetic_project
from builder.cache import KEEP_UNUSED, BuildCache, content_key
from builder.markdown_math import collect_formulas, markdown_to_unsafe_html
from builder.phone_budget import FITS_DEFAULT_PHONE_EM
from builder.problems import SourceError, errors_in
from builds import build_in


@pytest.fixture(autouse=True)
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


@pytest.fixture
def counted_streams(monkeypatch):
    """How many formulas each build sends to node."""
    sent: list[int] = []
    original = mathjax.TexStream.send

    def send(self, items):
        sent.append(len(items))
        original(self, items)

    monkeypatch.setattr(mathjax.TexStream, "send", send)
    return sent


def outputs(project: Path) -> tuple[bytes, str]:
    [apkg] = (project / "dist").glob("*.apkg")
    return apkg.read_bytes(), (project / "cards" / "mathdeck.lock.json").read_text()


def with_and_without_caches(
    project: Path, force: bool = False
) -> tuple[tuple[bytes, str], tuple[bytes, str]]:
    """Build with the caches as they are; then from the same sources and lock with no cache."""
    lock = project / "cards" / "mathdeck.lock.json"
    before = lock.read_text() if lock.exists() else None
    build_in(project, force=force)
    warm = outputs(project)
    for folder in (project / ".cache" / "build", project / "dist"):
        shutil.rmtree(folder)
    if before is None:
        lock.unlink()
    else:
        lock.write_text(before)
    build_in(project)
    return warm, outputs(project)


def synthetic(tmp_path: Path, count: int = 60) -> Path:
    write_synthetic_project(tmp_path / "synthetic", count, per_file=25)
    return tmp_path / "synthetic"


def test_warm_rebuild_gives_the_same_bytes_and_sends_no_formula(tmp_path, counted_streams):
    project = synthetic(tmp_path)
    build_in(project)
    cold = outputs(project)
    assert sum(counted_streams) > 100  # every formula went to node once
    counted_streams.clear()
    (project / "dist").joinpath("bench-1.0.0+dev.apkg").unlink()
    again = build_in(project)
    assert outputs(project) == cold and again.status == "written"
    assert counted_streams == []  # every card was checked before: node is not even started


def test_an_edited_card_is_rendered_and_checked_alone_and_the_bytes_match_a_fresh_build(
    tmp_path, counted_streams, monkeypatch
):
    project = synthetic(tmp_path)
    build_in(project)
    counted_streams.clear()
    edit_one_card(project / "cards", 7)  # adds the formula e^{7} > 0 to one card
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    warm, cold = with_and_without_caches(project, force=True)
    assert counted_streams[0] == 1  # only the new formula (then every formula, without caches)
    assert warm == cold


def test_an_edit_checks_again_only_the_edited_card(tmp_path, monkeypatch):
    """Cards that passed every check are remembered per card file: the edited card's neighbours
    in its file are not checked again, nor are the other files' cards."""
    from builder import check

    project = synthetic(tmp_path)
    build_in(project)
    checked: list[str] = []
    original = check.card_facts

    def card_facts(card, macros):
        checked.append(card.id)
        return original(card, macros)

    monkeypatch.setattr(check, "card_facts", card_facts)
    build_in(project, force=True)
    assert checked == []
    edit_one_card(project / "cards", 7)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    result = build_in(project, force=True)
    [edited] = [card.id for card in result.deck.cards if "Edit 7:" in str(card.text)]
    assert checked == [edited]


@pytest.mark.parametrize("lang", ["en+zh", "en"])
def test_an_edit_renders_only_the_edited_card(tmp_path, monkeypatch, lang):
    """Notes are kept per card file: the edited card's neighbours are not rendered again, nor
    the other files' cards, in either language (`en` renders the deck without its zh terms and,
    for the lock's times, as written: both are kept)."""
    from builder import memo

    project = synthetic(tmp_path)
    build_in(project, lang=lang)
    rendered: list[str] = []
    original = memo.render_card

    def render_card(card, *args):
        rendered.append(card.id)
        return original(card, *args)

    monkeypatch.setattr(memo, "render_card", render_card)
    build_in(project, force=True, lang=lang)
    assert rendered == []
    edit_one_card(project / "cards", 7)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    result = build_in(project, force=True, lang=lang)
    [edited] = [card.id for card in result.deck.cards if "Edit 7:" in str(card.text)]
    assert rendered == [edited] * (2 if lang == "en" else 1)
    rendered.clear()
    build_in(project, force=True, lang=lang)
    assert rendered == []


def test_cached_cards_keep_their_guids(project):
    """The cards cache hands each card's GUID back with it: the same as genanki makes."""
    import genanki

    from builder import identity
    from builder.memo import BuildCaches
    from builder.parsed_cards import load_sources_memoised

    folder = project / ".cache" / "build"
    caches = BuildCaches.open(folder)
    load_sources_memoised(project / "cards", caches.cards)
    caches.save()
    identity.KNOWN_GUIDS.clear()
    cards = load_sources_memoised(project / "cards", BuildCaches.open(folder).cards).deck.cards
    assert {identity.original_id(card) for card in cards} <= identity.KNOWN_GUIDS.keys()
    assert all(
        identity.guid_for_card(card) == genanki.guid_for(identity.original_id(card))
        for card in cards
    )


def test_a_changed_macro_renders_again_every_card_using_it(tmp_path, monkeypatch):
    project = synthetic(tmp_path, count=10)
    first = build_in(project)
    deck_yaml = project / "cards" / "deck.yaml"
    deck_yaml.write_text(
        deck_yaml.read_text().replace("E: '\\mathbb{E}'", "E: '\\operatorname{E}'")
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    lock = (project / "cards" / "mathdeck.lock.json").read_text()
    second = build_in(project, force=True)
    changed = {
        a.card.id for a, b in zip(first.notes, second.notes, strict=True) if a.fields != b.fields
    }
    assert changed == {
        card.id for card in second.deck.cards if "\\E" in "".join(card.text.values())
    }
    assert any("\\operatorname{E}" in field for note in second.notes for field in note.fields)
    (project / "cards" / "mathdeck.lock.json").write_text(lock)
    warm, cold = with_and_without_caches(project, force=True)
    assert warm == cold


def test_an_edited_code_file_is_read_again(project):
    build_in(project)
    snippet = project / "cards" / "snippets" / "softmax.py"
    snippet.write_text(snippet.read_text() + "\n# stable for any dim\n")
    lock = (project / "cards" / "mathdeck.lock.json").read_text()
    result = build_in(project, force=True)
    [code] = [note for note in result.notes if note.card.kind == "code"]
    assert "stable for any dim" in code.fields[2]
    (project / "cards" / "mathdeck.lock.json").write_text(lock)
    warm, cold = with_and_without_caches(project, force=True)
    assert warm == cold


def test_a_damaged_or_foreign_cache_is_ignored(tmp_path):
    project = synthetic(tmp_path, count=30)
    build_in(project)
    cold = outputs(project)
    shards = sorted((project / ".cache" / "build").rglob("*.marshal"))
    assert {shard.parent.name for shard in shards} == {
        "cards",
        "checked",
        "notes",
        "mathjax",
        "package",
        "lint",
    }
    for number, shard in enumerate(shards):
        shard.write_bytes(
            [b"", b"\x00garbage", shard.read_bytes()[: len(shard.read_bytes()) // 2]][number % 3]
        )
    (project / "dist" / "bench-1.0.0+dev.apkg").unlink()
    build_in(project)
    assert outputs(project) == cold


def test_a_formula_broken_after_a_clean_build_is_reported(tmp_path, monkeypatch):
    project = synthetic(tmp_path, count=10)
    build_in(project)
    cards = project / "cards" / "synthetic-000.yaml"
    cards.write_text(cards.read_text().replace("\\sigma^2 + 5$", "\\sigma^2 + \\undefinedmacro$"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
    with pytest.raises(SourceError) as error:
        build_in(project, force=True)
    [problem] = errors_in(error.value.problems)  # the synthetic code cards also draw phone warnings
    expected = (
        "card 'syn-00005-formula', field 'explanation': "
        "MathJax: Undefined control sequence \\undefinedmacro"
    )
    assert expected in problem.message


def test_a_card_file_rewritten_with_its_size_and_time_kept_is_read_again(project, monkeypatch):
    """A card file's digest is remembered by its size, times and inode (cache.file_digests):
    any write moves its ctime, so even an edit of the same size with its mtime set back is
    parsed again."""
    import os

    from builder import user_cache

    monkeypatch.setattr(user_cache, "RACY_NS", 0)  # every file settled: its digest is remembered
    build_in(project)
    path = project / "cards" / "cards.yaml"
    before = path.stat()
    path.write_text(path.read_text().replace("Posterior", "Afterward", 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    edited = build_in(project, force=True)
    [bayes] = [note for note in edited.notes if note.card.id == "bayes-theorem"]
    assert "Afterward" in "".join(bayes.fields) and "Posterior" not in "".join(bayes.fields)


def test_parsed_card_files_keep_their_lines(project):
    """Cards from the cache point at the same lines as freshly parsed ones (for later problems)."""
    from builder.load import load_deck
    from builder.memo import BuildCaches
    from builder.parsed_cards import load_sources_memoised

    folder = project / ".cache" / "build"
    caches = BuildCaches.open(folder)
    parsed = load_sources_memoised(project / "cards", caches.cards).deck
    caches.save()
    cached = load_sources_memoised(project / "cards", BuildCaches.open(folder).cards).deck
    assert cached.cards == parsed.cards == load_deck(project / "cards").cards
    assert [c.text_locations for c in cached.cards] == [c.text_locations for c in parsed.cards]
    assert [dict(c.text_locations) for c in cached.cards] == [
        c.text_locations for c in parsed.cards
    ]


def test_a_cached_cards_locations_are_made_when_asked_for_and_never_write_the_cache(tmp_path):
    from builder.parsed_cards import TextLocations
    from builder.problems import Location

    kept = {"question": (3, 15), "answer": (4, 13)}
    where = TextLocations(tmp_path / "a.yaml", kept)
    assert where["answer"] == Location(tmp_path / "a.yaml", 4, 13) == where.get("answer")
    assert where.get("zh") is None and list(where) == ["question", "answer"] and len(where) == 2
    where["zh"] = Location(tmp_path / "a.yaml", 9, 9)
    del where["question"]
    assert dict(where) == {
        "answer": Location(tmp_path / "a.yaml", 4, 13),
        "zh": Location(tmp_path / "a.yaml", 9, 9),
    }
    assert kept == {"question": (3, 15), "answer": (4, 13)}


# ---------------------------------------------------------------- BuildCache itself


def test_cache_round_trip_and_atomic_shards(tmp_path):
    cache = BuildCache(tmp_path, "things", "v1")
    key = content_key("a", 1)
    cache.put(key, ("html", ["x"], {"k": None}))
    cache.save()
    assert [p.name for p in (tmp_path / "things").iterdir()] == [
        f"{key[0]}.marshal"
    ]  # no temporary file left
    assert BuildCache(tmp_path, "things", "v1").get(key) == ("html", ["x"], {"k": None})
    assert BuildCache(tmp_path, "things", "v2").get(key) is None  # another fingerprint: empty


def test_unused_entries_age_out(tmp_path):
    # keys of one shard (the first hex digit): a shard ages when a build rewrites it
    cache = BuildCache(tmp_path, "t", "v")
    cache.put("a0", "old")
    cache.save()  # save 1
    for save in range(2, KEEP_UNUSED + 2):
        assert BuildCache(tmp_path, "t", "v").get("a0") == "old"
        cache = BuildCache(tmp_path, "t", "v")
        cache.put(f"a{save}", "new")  # a build that adds an entry and never uses a0
        cache.save()
    assert BuildCache(tmp_path, "t", "v").get("a0") is None
    assert BuildCache(tmp_path, "t", "v").get(f"a{KEEP_UNUSED + 1}") == "new"


def test_entries_kept_until_a_build_has_used_all_it_needs(tmp_path):
    cache = BuildCache(tmp_path, "t", "v", keep_unused=None)
    cache.put("b1", 1)
    cache.put("b2", 2)
    cache.save()
    for _ in range(KEEP_UNUSED + 1):
        cache = BuildCache(tmp_path, "t", "v", keep_unused=None)
        cache.put("b3", 3)
        cache.save()
    cache = BuildCache(tmp_path, "t", "v", keep_unused=None)
    assert cache.get("b1") == 1
    cache.drop_unused()
    cache.save()
    reread = BuildCache(tmp_path, "t", "v")
    assert (reread.get("b1"), reread.get("b2"), reread.get("b3")) == (1, None, None)


def test_content_key_separates_its_parts():
    assert content_key("ab", "c") != content_key("a", "bc")
    assert content_key(None) != content_key("None") != content_key("")


# ---------------------------------------------------------------- the formula fast path


# Markdown sources without `<` (so without raw HTML), made of the pieces that matter to math.
MARKDOWN_WITHOUT_TAGS = st.lists(
    st.sampled_from(
        [
            *"ab x_*`$\\{}&>#-|:\n\t1[]()!\"'é",
            "$$",
            "\n\n",
            "    ",
            "```",
            "**",
            "\\\\",
            "&amp;",
            "- ",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(MARKDOWN_WITHOUT_TAGS)
def test_formulas_found_by_pattern_equal_the_html_parser(text):
    html = markdown_to_unsafe_html(text)
    assert collect_formulas(html, markdown_tags_only=True) == collect_formulas(html)


# ---------------------------------------------------------------- streaming to node


def test_stream_answers_batches_in_the_order_sent():
    stream = mathjax.TexStream()
    stream.send([(r"\frac{a}{b}", True), (r"\foo", False)])
    stream.send([("a}", False)])
    stream.send([])
    verdicts = stream.verdicts()
    assert [error for error, *_ in verdicts] == [
        None,
        r"Undefined control sequence \foo",
        "Extra close brace or missing open brace",
    ]
    assert (
        verdicts[0][1] > 0.9 and verdicts[1][1] is None
    )  # the width of \frac{a}{b} in ems; none for an error


def test_a_stream_answered_in_full_does_not_wait_for_node_to_exit(monkeypatch, tmp_path):
    """Node's exit (its threads torn down) is not waited for once every batch is answered: a
    stand-in for check.mjs answers, then blocks until the test lets it go."""
    import sys

    release = tmp_path / "release"
    script = tmp_path / "check.py"
    script.write_text(
        "import json, os, sys, time\n"
        "for number, line in enumerate(sys.stdin):\n"
        "    answer = [{'error': None, 'width': 1.0} for _ in json.loads(line)]\n"
        "    print(json.dumps({'batch': number, 'verdicts': answer}), flush=True)\n"
        f"while not os.path.exists({str(release)!r}):\n"
        "    time.sleep(0.01)\n"
    )
    monkeypatch.setattr(mathjax, "require_node_setup", lambda: (sys.executable, tmp_path))
    monkeypatch.setattr(mathjax, "usable_snapshot", lambda node, root: None)
    monkeypatch.setattr(mathjax, "CHECK_SCRIPT", script)
    stream = mathjax.TexStream()
    stream.send([("x", False), ("y", True)])
    stream.send([("z", False)])
    waiting_for_exit = threading.Timer(60, release.touch)  # else this test would hang
    waiting_for_exit.start()
    try:
        assert stream.verdicts() == [(None, 1.0, True)] * 3
        assert stream._process.poll() is None  # still running: nobody waited for it
    finally:
        waiting_for_exit.cancel()
        release.touch()
    assert stream._process.wait() == 0


def test_a_changed_card_file_is_checked_before_the_unchanged_ones_are_made(project, monkeypatch):
    """An edit's new formula goes to node as soon as the first card file is seen, before the
    cards of the unchanged files after it are made from the cache; the build is the same."""
    from builder import parsed_cards

    card = (
        "subdeck: More\ncards:\n  - id: {id}\n    kind: qa\n    question: What is ${tex}$?\n"
        "    answer: A formula.\n"
    )
    for name, card_id, tex in (("a-first", "first-card", "a + b"), ("z-last", "last-card", "c")):
        (project / "cards" / f"{name}.yaml").write_text(card.format(id=card_id, tex=tex))
    build_in(project)
    (project / "cards" / "z-last.yaml").write_text(card.format(id="last-card", tex="c^{42}"))
    events: list[str] = []
    made, send = parsed_cards._card_file_from_entry, mathjax.TexStream.send
    monkeypatch.setattr(
        parsed_cards,
        "_card_file_from_entry",
        lambda entry, path, cards_dir: events.append(path.name) or made(entry, path, cards_dir),
    )
    monkeypatch.setattr(
        mathjax.TexStream, "send", lambda self, items: events.append("sent") or send(self, items)
    )
    edited = build_in(project)
    assert events == ["a-first.yaml", "sent", "cards.yaml"]
    monkeypatch.undo()
    shutil.rmtree(project / ".cache" / "build")
    again = build_in(project, force=True)
    assert [note.fields for note in edited.notes] == [note.fields for note in again.notes]


def test_the_package_waits_beside_its_place_for_the_verdict(project, monkeypatch):
    """While node checks an edit's new formula the new .apkg and lock are written beside their
    places, not in them; they go there once the checks pass, and a failed check leaves nothing of
    them."""
    build_in(project)
    [apkg] = (project / "dist").glob("*.apkg")
    lock = project / "cards" / "mathdeck.lock.json"
    before, lock_before = apkg.read_bytes(), lock.read_text()
    seen: list[tuple[list[str], bytes, str, int]] = []
    verdicts = mathjax.TexStream.verdicts

    def looking(self, on_answers=None):
        copies = len(list(lock.parent.glob(f".{lock.name}.*.tmp")))
        seen.append(
            (
                sorted(p.name for p in apkg.parent.iterdir()),
                apkg.read_bytes(),
                lock.read_text(),
                copies,
            )
        )
        return verdicts(self, on_answers)

    monkeypatch.setattr(mathjax.TexStream, "verdicts", looking)
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("only normalises", "only normalises ($e^{7}$)"))
    build_in(project, force=True)
    [(names, bytes_then, lock_then, lock_copies)] = seen
    assert bytes_then == before and len(names) == 2 and names[0].startswith(f".{apkg.name}.")
    assert lock_then == lock_before and lock_copies == 1
    after = apkg.read_bytes()
    assert after != before and [p.name for p in apkg.parent.iterdir()] == [apkg.name]
    assert lock.read_text() != lock_before and not list(lock.parent.glob(".*.tmp"))
    cards.write_text(cards.read_text().replace("($e^{7}$)", "($\\undefinedmacro$)"))
    with pytest.raises(SourceError):
        build_in(project, force=True)
    assert apkg.read_bytes() == after and [p.name for p in apkg.parent.iterdir()] == [apkg.name]
    assert not list(lock.parent.glob(".*.tmp"))


def test_formula_checker_asks_node_once_per_formula(monkeypatch):
    sent: list[list] = []

    class FakeStream:
        def __init__(self, tex_links, bound_limit_em):
            assert tex_links == "none"  # the deck's policy travels to node with the formulas
            assert bound_limit_em == FITS_DEFAULT_PHONE_EM  # and what a formula may be bounded by

        def send(self, items):
            sent.append(list(items))

        def verdicts(self, on_answers=None):
            return [(None, 1.0, True)] * sum(map(len, sent))

    monkeypatch.setattr(check_math, "TexStream", FakeStream)
    checker = check_math.FormulaChecker()
    checker.add([("x", False), ("y", True), ("x", False)])
    checker.add([("y", True), ("z", False)])
    assert checker.finish() == {
        ("x", False): (None, 1.0, True),
        ("y", True): (None, 1.0, True),
        ("z", False): (None, 1.0, True),
    }
    assert sent == [
        [("x", False), ("y", True)],
        [("z", False)],
    ]  # the first at once, the rest at the end


def test_stream_reports_missing_mathjax(monkeypatch, tmp_path):
    monkeypatch.setenv("MATHDECK_NODE_ROOT", str(tmp_path))
    with pytest.raises(mathjax_install.MathJaxUnavailable, match="npm ci"):
        mathjax.TexStream()


def test_minimal_project_builds_the_same_with_and_without_caches(project):
    build_in(project)
    (project / "cards" / "mathdeck.lock.json").unlink()
    shutil.rmtree(project / "dist")
    warm, cold = with_and_without_caches(project)
    assert warm == cold
