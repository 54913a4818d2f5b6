"""The figure server the builder runs: figures/_run.py's `draw`, with each script's output capped.

    python builder/figure_server.py    (cwd: the figures folder; the protocol of `_run.py --serve`)

A script that prints 100 MB before it fails must not hold 100 MB (and ten times that as JSON)
in memory: only the last OUTPUT_LIMIT bytes of what it prints are kept for the message.
The serving loop lives here, not in figures/_run.py, because every shared `figures/_*.py` is
hashed into each figure's cache key and media name (builder/figures.py): a change there would
rename every figure a learner has. The drawing itself is _run.py's, in a fresh fork per script
of a process that imported torch and matplotlib once, exactly as `_run.py --serve` does.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback

OUTPUT_LIMIT = 64 * 1024
CHUNK = 64 * 1024


def serve() -> None:
    # The figures folder (cwd) replaces this file's own folder, whose modules (cache.py,
    # model.py, ...) must not shadow what a figure script imports.
    sys.path[0] = os.getcwd()
    import _run  # sets the thread counts before torch loads, imports _style and matplotlib
    import matplotlib.pyplot  # noqa: F401  (preloaded once, inherited by every fork)

    # only decks whose figure scripts use torch need it (`mathdeck new`'s do not)
    with contextlib.suppress(ImportError):
        import torch  # noqa: F401

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        output, ok = draw_in_child(_run.draw, *json.loads(line))
        print(json.dumps({"ok": True} if ok else {"ok": False, "output": output}), flush=True)
    os._exit(0)  # end of input: skip seconds of torch teardown, there is nothing to clean up


def draw_in_child(draw, script: str, out_light: str, out_dark: str) -> tuple[str, bool]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: everything it prints goes to the pipe, never to the protocol
        os.close(read_end)
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        code = 1
        try:
            draw(script, out_light, out_dark)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    output = read_tail(read_end, OUTPUT_LIMIT)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not output.strip():
        output = f"{script} exited with code {code}"
    return output.strip(), code == 0


def read_tail(fd: int, limit: int) -> str:
    """Everything `fd` gives until its end, keeping only the last `limit` bytes (the traceback
    comes last), with a note of how much was cut."""
    kept = bytearray()
    total = 0
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(CHUNK):
            total += len(chunk)
            kept += chunk
            if len(kept) > 2 * limit:
                del kept[:-limit]
    tail = bytes(kept[-limit:])
    text = tail.decode("utf-8", "replace")
    if total > len(tail):
        text = (
            f"[{total - len(tail):,} bytes of output cut; the last {len(tail):,} follow]\n" + text
        )
    return text


if __name__ == "__main__":
    serve()
