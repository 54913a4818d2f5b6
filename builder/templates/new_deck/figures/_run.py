"""Draw figure scripts in both themes.

    python figures/_run.py SCRIPT OUT_LIGHT OUT_DARK     draw one figure (preview by hand)
    python figures/_run.py --serve                       what the builder runs, one per core

The output format follows each out path's suffix (.svg or .png). A failing script prints its
traceback to stderr and exits non-zero.

`--serve` imports torch and matplotlib once, says `{"ready": true}` on stdout, then reads one
JSON request per stdin line, `[script, out_light, out_dark]`, and draws each in a forked
child: every script still starts
from the same fresh state (no rcParams or random state leaks between scripts), but without
paying ~2.5 s of imports per script. It answers one JSON line per request on stdout:
`{"ok": true}` or `{"ok": false, "output": "<what the script printed, with the traceback>"}`.
"""

from __future__ import annotations

import os

# One thread per script: the builder already runs one script per core, and a fixed thread
# count keeps torch's reductions in the same order, hence the same bytes.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

import _style  # noqa: E402  (figures/ is sys.path[0] when this file is run)


def load_script(path: Path):
    """Import a figure script by path; its file name may contain hyphens."""
    name = "figure_" + path.stem.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def reset_random_state() -> None:
    # Scripts should seed their own generators; this only makes a forgotten seed harmless.
    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)


def draw(script: str, out_light: str, out_dark: str) -> None:
    import matplotlib.pyplot as plt

    module = load_script(Path(script))
    for theme, out in zip(_style.THEMES, (out_light, out_dark)):
        with matplotlib.rc_context(_style.rc_params(theme)):
            reset_random_state()
            fig = module.draw(theme)
            _style.save(fig, Path(out))
            plt.close(fig)


def serve() -> None:
    import matplotlib.pyplot  # noqa: F401  (preloaded once, inherited by every fork)
    import torch  # noqa: F401

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        output, ok = _draw_in_child(*json.loads(line))
        print(json.dumps({"ok": True} if ok else {"ok": False, "output": output}), flush=True)
    os._exit(0)  # end of input: skip seconds of torch teardown, there is nothing to clean up


def _draw_in_child(script: str, out_light: str, out_dark: str) -> tuple[str, bool]:
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
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not output.strip():
        output = f"{script} exited with code {code}"
    return output.strip(), code == 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    elif len(sys.argv) == 4:
        draw(*sys.argv[1:])
    else:
        sys.exit(__doc__.split("\n\n")[1])
