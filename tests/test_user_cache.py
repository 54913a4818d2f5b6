"""What a start remembers in the per-user cache (builder/user_cache.py): the digests of
mathdeck's own files (cache.file_digests) and the figures' descriptions (figures.plan_figures),
each used only while what determines it is unchanged."""

from __future__ import annotations

import os

import pytest

from builder import cache, figures, user_cache
from builder.cache import file_digests
from builder.figures import plan_figures
from builder.user_cache import Remembered


@pytest.fixture(autouse=True)
def own_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MATHDECK_CACHE", str(tmp_path / "user-cache"))
    cache._remembered_digests.cache_clear()
    yield
    cache._remembered_digests.cache_clear()


def _remembered_again(name: str, limit: int) -> Remembered:
    """The table as the next process reads it."""
    cache._remembered_digests.cache_clear()
    return Remembered(name, limit)


def test_remembered_values_come_back_newest_kept_and_a_damaged_file_is_empty():
    table = Remembered("table", limit=2)
    for key in ("a", "b", "c"):
        table.put(key, [key, 1])
    table.save()
    again = Remembered("table", limit=2)
    assert again.entries == {"b": ["b", 1], "c": ["c", 1]}
    data = bytearray(again.path.read_bytes())
    data[-3] ^= 0x01
    again.path.write_bytes(bytes(data))
    assert Remembered("table", limit=2).entries == {}


def test_a_file_digest_is_remembered_until_the_file_changes(monkeypatch, tmp_path):
    code = tmp_path / "code.py"
    code.write_text("x = 1\n")
    monkeypatch.setattr(user_cache, "RACY_NS", 0)  # the file is older than its clock's tick
    [digest] = file_digests([code])
    # Remembered: a wrong digest planted in the table comes back while the file is unchanged...
    table = _remembered_again(cache.CODE_DIGESTS, cache.CODE_DIGESTS_KEPT)
    entry = table.get(str(code))
    assert entry[-1] == digest
    table.put(str(code), [*entry[:-1], "planted"])
    table.save()
    cache._remembered_digests.cache_clear()
    assert file_digests([code]) == ["planted"]
    # ...and any change to the file, even one of the same size with its time set back, ends it.
    before = code.stat()
    code.write_text("x = 2\n")
    os.utime(code, ns=(before.st_atime_ns, before.st_mtime_ns))
    cache._remembered_digests.cache_clear()
    assert file_digests([code]) not in (["planted"], [digest])


def test_a_file_changed_just_now_is_hashed_again_next_time(monkeypatch, tmp_path):
    monkeypatch.setattr(user_cache, "RACY_NS", 10**18)  # "just now", however busy the machine
    code = tmp_path / "code.py"
    code.write_text("x = 1\n")
    file_digests([code])
    assert _remembered_again(cache.CODE_DIGESTS, cache.CODE_DIGESTS_KEPT).get(str(code)) is None


def test_code_fingerprints_are_the_same_from_remembered_digests(monkeypatch):
    monkeypatch.setattr(user_cache, "RACY_NS", 0)
    first = cache.code_fingerprint.__wrapped__(), cache.fingerprint.__wrapped__(("render.py",))
    cache._remembered_digests.cache_clear()
    assert (
        cache.code_fingerprint.__wrapped__(),
        cache.fingerprint.__wrapped__(("render.py",)),
    ) == first


def test_figure_descriptions_are_kept_by_their_script(monkeypatch, tmp_path):
    scripts = tmp_path / "figures"
    scripts.mkdir()
    (scripts / "coin.py").write_text('"""A fair coin.\n\nMore."""\nFORMAT = "svg"\n')
    (scripts / "broken.py").write_text('"""Never drawn."""\ndef draw(:\n')
    parsed = []
    real_description = figures._description
    monkeypatch.setattr(
        figures, "_description", lambda source: parsed.append(source) or real_description(source)
    )
    first = plan_figures(scripts)
    assert [first["coin"].alt, first["broken"].alt, len(parsed)] == ["A fair coin.", "", 2]
    assert plan_figures(scripts) == first and len(parsed) == 2  # nothing parsed again
    (scripts / "coin.py").write_text('"""A biased coin."""\n')
    assert plan_figures(scripts)["coin"].alt == "A biased coin." and len(parsed) == 3
