"""image_formats: is this the whole of a PNG or SVG file? (stdlib only, nothing decoded)

A figure file that a kill cut short or a disk damaged must never reach a package
(builder/figure_drawing.py checks each one when it is drawn and when it is taken from the cache).
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def format_problem(data: bytes, fmt: str) -> str | None:
    """Why `data` is not a whole file of format `fmt`, or None."""
    if fmt == "svg":
        head = data[:512].lstrip()
        return (
            None
            if (head.startswith((b"<?xml", b"<svg")) and data.rstrip().endswith(b"</svg>"))
            else "not an SVG document"
        )
    return png_problem(data)


def png_problem(data: bytes) -> str | None:
    """Walk the PNG's chunks, checking each CRC, up to IEND (no decoding: stdlib only)."""
    if not data.startswith(PNG_SIGNATURE):
        return "not a PNG file (bad signature)"
    at = len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 12 + length
        if end > len(data):
            return f"PNG chunk {kind!r} is cut short"
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[at + 4 : end - 4]) != crc:
            return f"PNG chunk {kind!r} fails its CRC"
        if kind == b"IEND":
            return None if end == len(data) else "bytes after the PNG's end"
        at = end
    return "PNG file is truncated (no IEND chunk)"
