"""package_zip: the .apkg's zip, to the byte as zipfile writes it, with its deflate made here.

zipfile compresses each entry itself, in one zlib stream on one core. A development build's
collection (37 MB at 20,000 notes) is deflated here instead, in fixed-size chunks on every core
(zlib lets go of the GIL), as pigz does: each chunk's compressor is primed with the 32 KiB of
input before it and ends on a byte boundary (a sync flush), so the chunks joined are one valid
deflate stream, and the same bytes whatever the number of cores. Data of one chunk or less (the
flagship's collection, every media file) and a release (level 9, kept byte for byte in
releases/) are one stream, the bytes zipfile writes. tests/test_package_zip.py holds the zip
equal to zipfile's.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mmap

CHUNK = 1 << 20  # input bytes a chunk; part of the bytes: never derived from the machine
WINDOW = 32 << 10  # deflate's window: what a chunk's compressor is primed with
ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest date a zip entry can hold

# zipfile's records for an entry without extra fields, data descriptor or zip64: version 2.0,
# Unix, deflated
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
END_OF_CENTRAL_DIRECTORY = struct.Struct("<4s4H2LH")
VERSION = 20
UNIX = 3
DEFLATED = 8
PERMISSIONS = 0o644 << 16


def deflate(data: bytes | mmap.mmap, level: int, chunked: bool) -> bytes:
    """Raw deflate of `data` at zlib `level`: in CHUNK-sized pieces on every core if `chunked`,
    else (or for data of one chunk) zipfile's one stream."""
    if not chunked or len(data) <= CHUNK:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush()
    view = memoryview(data)
    starts = range(0, len(data), CHUNK)

    def piece(start: int) -> bytes:
        last = start + CHUNK >= len(data)
        compressor = (
            zlib.compressobj(level, zlib.DEFLATED, -15, zdict=view[start - WINDOW : start])
            if start
            else zlib.compressobj(level, zlib.DEFLATED, -15)
        )
        out = compressor.compress(view[start : start + CHUNK])
        return out + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    return b"".join(_in_threads(piece, list(starts)))


def _in_threads(work: Callable[[int], bytes], items: list[int]) -> list[bytes]:
    """work(item) for every item, in order, on a thread per core, this one included (zlib lets
    go of the GIL): concurrent.futures took ~10 ms to import, 2% of a 2,000-card edit."""
    workers = min(len(items), os.cpu_count() or 1)
    results: list[bytes] = [b""] * len(items)
    errors: list[BaseException] = []

    def run(first: int) -> None:
        try:
            for number in range(first, len(items), workers):
                results[number] = work(items[number])
        except BaseException as error:  # raised below, in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(first,)) for first in range(1, workers)]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def deterministic_zip(entries: list[tuple[str, bytes | mmap.mmap, bytes]], epoch: int) -> bytes:
    """The zip of `entries` (name, data, its raw deflate), in order, every entry dated `epoch`
    (the newest note time; 1980 at the earliest) with permissions 0644: zipfile.writestr's
    bytes for ZipInfo(name, date_time) with ZIP_DEFLATED, create_system 3 and those permissions."""
    year, month, day, hour, minute, second = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    dos_date = (year - 1980) << 9 | month << 5 | day
    dos_time = hour << 11 | minute << 5 | second // 2
    out: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for name, data, deflated in entries:
        encoded, flags = _encoded_name(name)
        crc = zlib.crc32(data)
        common = (flags, DEFLATED, dos_time, dos_date, crc, len(deflated), len(data))
        local = LOCAL_HEADER.pack(b"PK\x03\x04", VERSION, 0, *common, len(encoded), 0)
        directory.append(
            CENTRAL_HEADER.pack(
                b"PK\x01\x02",
                VERSION,
                UNIX,
                VERSION,
                0,
                *common,
                len(encoded),
                0,
                0,
                0,
                0,
                PERMISSIONS,
                offset,
            )
            + encoded
        )
        out += (local, encoded, deflated)
        offset += len(local) + len(encoded) + len(deflated)
    size = sum(map(len, directory))
    end = END_OF_CENTRAL_DIRECTORY.pack(
        b"PK\x05\x06", 0, 0, len(entries), len(entries), size, offset, 0
    )
    return b"".join(out + directory + [end])


def _encoded_name(name: str) -> tuple[bytes, int]:
    """As zipfile: ASCII as it is, anything else UTF-8 with the language encoding flag."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), 0x800
