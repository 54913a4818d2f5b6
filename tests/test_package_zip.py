"""package_zip: the zip as zipfile writes it; a chunked deflate is one stream, the same bytes on
any number of cores."""

from __future__ import annotations

import io
import os
import time
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import package_zip
from builder.package_zip import CHUNK, WINDOW, deflate, deterministic_zip


def zipfile_bytes(entries: list[tuple[str, bytes]], epoch: int, level: int) -> bytes:
    """What the package's zip was before package_zip: zipfile.writestr, one stream an entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=time.gmtime(max(epoch, 315532800))[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, data, compresslevel=level)
    return out.getvalue()


ENTRIES = [
    ("collection.anki2", b"SQLite format 3\x00" + bytes(range(256)) * 300),
    ("media", b'{"0": "f\xc3\xa9.svg"}'),
    ("0", b"<svg/>" * 50),
    ("\u00e9t\u00e9.png", b""),  # not ASCII: zipfile's UTF-8 flag
]


def test_the_zip_is_zipfiles_to_the_byte():
    for level in (1, 9):
        for epoch in (0, 1764000000, 1764012345):
            ours = deterministic_zip(
                [(name, data, deflate(data, level, chunked=False)) for name, data in ENTRIES],
                epoch,
            )
            assert ours == zipfile_bytes(ENTRIES, epoch, level)


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3 * WINDOW), st.integers(0, 4))
def test_a_chunked_deflate_is_one_stream_of_the_same_data(data, copies):
    """Repeats across chunk boundaries are where priming with the window matters."""
    data = data * copies + bytes(CHUNK - WINDOW // 2) + data * copies + os.urandom(100)
    inflated = zlib.decompressobj(-15)
    assert inflated.decompress(deflate(data, 1, chunked=True)) == data and inflated.eof


def test_a_chunked_deflate_does_not_depend_on_the_cores(monkeypatch):
    data = b"".join(b"note %d: some HTML <b>x</b>\n" % i for i in range(3 * CHUNK // 20))
    assert len(data) > 2 * CHUNK
    on_two = deflate(data, 1, chunked=True)
    monkeypatch.setattr(package_zip.os, "cpu_count", lambda: 1)
    assert deflate(data, 1, chunked=True) == on_two
    monkeypatch.setattr(package_zip.os, "cpu_count", lambda: 7)
    assert deflate(data, 1, chunked=True) == on_two
    assert on_two != deflate(data, 1, chunked=False)  # chunks, not zipfile's one stream


def test_data_of_one_chunk_is_zipfiles_one_stream():
    data = b"<p>a note</p>" * (CHUNK // 13)
    assert len(data) <= CHUNK
    one = zlib.compressobj(1, zlib.DEFLATED, -15)
    assert deflate(data, 1, chunked=True) == one.compress(data) + one.flush()


def test_an_error_in_a_chunks_thread_is_raised_to_the_caller(monkeypatch):
    monkeypatch.setattr(package_zip.os, "cpu_count", lambda: 2)

    def work(item: int) -> bytes:
        if item == 3:
            raise MemoryError("chunk 3")
        return bytes([item])

    assert package_zip._in_threads(lambda item: bytes([item]), [0, 1, 2, 3]) == [
        b"\0",
        b"\1",
        b"\2",
        b"\3",
    ]
    with pytest.raises(MemoryError, match="chunk 3"):
        package_zip._in_threads(work, [0, 1, 2, 3, 4])
