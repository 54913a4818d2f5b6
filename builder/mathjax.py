"""Check TeX the way Anki's MathJax 3 will parse it, strictly, with one node process per batch.

The work is done by ``builder/mathjax/check.mjs`` with the ``mathjax-full`` that
mathjax_install.py finds (or installs on first use). It loads the TeX packages Anki loads except
those that hide mistakes (``noerrors``, ``noundefined``), so a formula that would show red on a
card comes back with MathJax's own message, e.g. ``Undefined control sequence \\foo``.
"""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Final

from .mathjax_install import MathJaxFailed, MathJaxUnavailable, require_node_setup
from .mathjax_snapshot import CHECK_SCRIPT, Snapshot, node_environment, usable_snapshot
from .records import Record

EXIT_MATHJAX_MISSING = 3  # check.mjs's exit code when it cannot import mathjax-full


class TexProblem(Record):
    __slots__ = field_names = ("index", "tex", "message")
    index: Final[int]  # position in the batch given to tex_problems
    tex: Final[str]
    message: Final[str]  # MathJax's words

    def __init__(self, index: int, tex: str, message: str) -> None:
        self.index = index
        self.tex = tex
        self.message = message


# (None, width in ems, exact) for a formula MathJax typesets, (its error message, None, True)
# otherwise. `exact` is False when the width is only an upper bound (mathjax/widthbound.mjs): node
# lays out no formula whose bound is at most the `bound_limit_em` it was given. A plain tuple: it
# goes into the marshal caches as it is.
Verdict = tuple[str | None, float | None, bool]


def _verdict(answer: dict) -> Verdict:
    return (answer["error"], answer["width"], not answer.get("bound", False))


def _node_environment(
    root: Path, tex_links: str = "none", bound_limit_em: float = 0.0
) -> dict[str, str]:
    # The safety policy and the bound's limit travel in the environment: worker threads inherit it.
    return node_environment(
        MATHDECK_NODE_ROOT=str(root),
        MATHDECK_TEX_LINKS=tex_links,
        MATHDECK_WIDTH_BOUND_LIMIT_EM=json.dumps(bound_limit_em),  # inf: Infinity, as in JS
    )


def check_tex(items: Sequence[tuple[str, bool]], tex_links: str = "none") -> list[str | None]:
    """Return, for each (tex, display), None if MathJax parses it or MathJax's error message.

    The TeX is what goes between the delimiters: ``\\frac{a}{b}``, not ``\\(\\frac{a}{b}\\)``.
    Each formula is checked on its own: a ``\\newcommand`` in one does not define it for others.
    """
    # only the errors: any width bound will do, so no formula whose bound is known is laid out
    return [error for error, *_ in measure_tex(items, tex_links, bound_limit_em=math.inf)]


def measure_tex(
    items: Sequence[tuple[str, bool]], tex_links: str = "none", bound_limit_em: float = 0.0
) -> list[Verdict]:
    """For each (tex, display), MathJax's Verdict: (None, width in ems, exact) when it parses, else
    (MathJax's error message, None, True). The width is the typeset formula's, in ems of the font
    around it (see check.mjs); one whose bound is at most `bound_limit_em` is that bound instead
    (exact False). The default, 0, measures every width exactly."""
    unique = list(dict.fromkeys((tex, bool(display)) for tex, display in items))
    if not unique:
        return []
    verdicts = dict(zip(unique, _run_checker(unique, tex_links, bound_limit_em), strict=True))
    return [verdicts[(tex, bool(display))] for tex, display in items]


class TexStream:
    """One node process (check.mjs --stream) checking batches of formulas as they are sent, on
    every core, while the caller goes on; verdicts() waits for the answers of all of them.
    `tex_links` is deck.yaml's: "https" lets \\href link to https: addresses; `bound_limit_em` as
    for measure_tex."""

    def __init__(self, tex_links: str = "none", bound_limit_em: float = 0.0):
        self._node, self._root = require_node_setup()
        self._tex_links = tex_links
        self._bound_limit_em = bound_limit_em
        self._batches: list[list[tuple[str, bool]]] = []
        self._snapshot = usable_snapshot(self._node, self._root)
        self._start()

    def _start(self) -> None:
        snapshot = self._snapshot.arguments() if self._snapshot else []
        self._process = subprocess.Popen(
            [self._node, *snapshot, str(CHECK_SCRIPT), "--stream"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            env=_node_environment(self._root, self._tex_links, self._bound_limit_em),
        )
        self._answers: dict[int, list[Verdict]] = {}
        self.answered = 0  # formulas answered so far (written by the reader thread)
        self._news = threading.Event()  # set by the reader thread at each answer, and at the end
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_answers, name="mathjax-answers", daemon=True),
            threading.Thread(
                target=lambda: self._stderr.append(_pipe(self._process.stderr).read()),
                name="mathjax-stderr",
                daemon=True,
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _read_answers(self) -> None:
        try:
            for line in _pipe(self._process.stdout):
                try:
                    answer = json.loads(line)
                except json.JSONDecodeError:  # a `node` that is a wrapper printing its own text
                    # read on (node must not block on a full pipe); verdicts() says the rest
                    self._stderr.append(f"node answered text that is not JSON: {line[:80]!r}")
                    continue
                self._answers[answer["batch"]] = [
                    _verdict(verdict) for verdict in answer["verdicts"]
                ]
                self.answered += len(answer["verdicts"])
                self._news.set()
        finally:
            self._news.set()

    def send(self, items: Sequence[tuple[str, bool]]) -> None:
        batch = [(tex, bool(display)) for tex, display in items]
        self._batches.append(batch)
        self._write(batch)

    def _write(self, batch: list[tuple[str, bool]]) -> None:
        try:
            _pipe(self._process.stdin).write(formulas_json(batch) + "\n")
            _pipe(self._process.stdin).flush()
        except (BrokenPipeError, OSError):
            pass  # node ended early: verdicts() says why

    def verdicts(self, on_answers: Callable[[int], None] | None = None) -> list[Verdict]:
        """For every formula sent, in order, MathJax's Verdict; while waiting, `on_answers` is told
        how many have been answered so far (a few times a second)."""
        returncode, stderr = self._finish(on_answers)
        if returncode not in (0, EXIT_MATHJAX_MISSING) and self._snapshot:
            snapshot, self._snapshot, failure = self._snapshot, None, stderr
            self._start()  # all over again, the usual way
            for batch in self._batches:
                self._write(batch)
            returncode, stderr = self._finish(on_answers)
            _distrust_if(returncode == 0, snapshot, failure)
        if returncode == EXIT_MATHJAX_MISSING:
            raise MathJaxUnavailable(f"{stderr}; run `make setup` (or `npm ci`)")
        if returncode != 0 or len(self._answers) != len(self._batches):
            raise MathJaxFailed(
                f"{CHECK_SCRIPT.name} --stream failed ({returncode}), "
                f"{len(self._answers)} of {len(self._batches)} batches answered: {stderr}"
            )
        verdicts = []
        for number, batch in enumerate(self._batches):
            if len(self._answers[number]) != len(batch):
                raise MathJaxFailed(
                    f"{CHECK_SCRIPT.name} answered {len(self._answers[number])} of {len(batch)} "
                    f"in batch {number}"
                )
            verdicts += self._answers[number]
        return verdicts

    def _finish(self, on_answers: Callable[[int], None] | None) -> tuple[int, str]:
        """Wait for node to answer everything sent: its exit code and what it said on stderr."""
        with contextlib.suppress(BrokenPipeError, OSError):
            _pipe(self._process.stdin).close()
        while True:
            self._news.clear()
            if not self._readers[0].is_alive() or len(self._answers) == len(self._batches):
                break
            if on_answers is not None:
                on_answers(self.answered)
            self._news.wait(0.1)
        if len(self._answers) == len(self._batches):
            # Every batch is answered: node's exit (10-40 ms of tearing its threads down) is
            # waited for in the background, not before the build can go on.
            threading.Thread(target=self._process.wait, name="mathjax-exit", daemon=True).start()
            return 0, ""
        returncode = self._process.wait()
        for reader in self._readers:
            reader.join()
        return returncode, "".join(self._stderr).strip()


def _distrust_if(usual_way_worked: bool, snapshot: Snapshot, stderr: str) -> None:
    """node failed from the snapshot: when it worked without, the snapshot was why (a blob whose
    bytes are right but that this node cannot start from): it is not used again."""
    if usual_way_worked:
        with contextlib.suppress(OSError):
            snapshot.distrust(stderr)


def tex_names() -> dict[str, tuple[str, ...]]:
    """The macro and environment names the checker's TeX input knows (check.mjs --names), for
    did-you-mean suggestions: {"macros": (...), "environments": (...)}."""
    answer = json_answer(_run_check_script(["--names"], "", "none"), f"{CHECK_SCRIPT.name} --names")
    return {kind: tuple(answer[kind]) for kind in ("macros", "environments")}


def tex_problems(items: Sequence[tuple[str, bool]]) -> list[TexProblem]:
    """The formulas among items that MathJax rejects, in batch order."""
    return [
        TexProblem(index, tex, message)
        for index, ((tex, _), message) in enumerate(zip(items, check_tex(items), strict=True))
        if message is not None
    ]


def formulas_json(items: Sequence[tuple[str, bool]]) -> str:
    """A batch of (TeX, display?) as the scripts of builder/mathjax read it on stdin."""
    return json.dumps([{"tex": tex, "display": display} for tex, display in items])


def json_answer(result: subprocess.CompletedProcess, what: str):
    """A node script's JSON answer, or why there is none (`what` names the script)."""
    if result.returncode == EXIT_MATHJAX_MISSING:
        raise MathJaxUnavailable(f"{result.stderr.strip()}; run `make setup` (or `npm ci`)")
    if result.returncode < 0:  # a signal: node says nothing, the signal's name says why
        import signal

        killed = signal.Signals(-result.returncode).name
        raise MathJaxFailed(f"{what} was killed by {killed} (out of memory? another process?)")
    if result.returncode != 0:
        raise MathJaxFailed(f"{what} failed ({result.returncode}): {result.stderr.strip()}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:  # e.g. a `node` on PATH that is a wrapper printing its own text
        raise MathJaxFailed(
            f"{what} answered with text that is not JSON: {result.stdout.strip()[:80]!r}"
        ) from None


def _run_check_script(
    arguments: list[str], payload: str, tex_links: str, bound_limit_em: float = 0.0
):
    """check.mjs run once, from the startup snapshot when there is one (and the usual way when
    node fails from it)."""
    node, root = require_node_setup()
    snapshot = usable_snapshot(node, root)
    command = [str(CHECK_SCRIPT), *arguments]
    if snapshot is not None:
        result = node_run(
            [node, *snapshot.arguments(), *command], payload, root, tex_links, bound_limit_em
        )
        if result.returncode in (0, EXIT_MATHJAX_MISSING):
            return result
        usual = node_run([node, *command], payload, root, tex_links, bound_limit_em)
        _distrust_if(usual.returncode == 0, snapshot, result.stderr)
        return usual
    return node_run([node, *command], payload, root, tex_links, bound_limit_em)


def node_run(
    command: list[str], payload: str, root: Path, tex_links: str, bound_limit_em: float = 0.0
):
    """One run of a script of builder/mathjax (`command`), given `payload` on stdin."""
    return subprocess.run(
        command,
        input=payload,
        capture_output=True,
        encoding="utf-8",
        env=_node_environment(root, tex_links, bound_limit_em),
        check=False,
    )


def _run_checker(
    items: list[tuple[str, bool]], tex_links: str = "none", bound_limit_em: float = 0.0
) -> list[Verdict]:
    verdicts = json_answer(
        _run_check_script([], formulas_json(items), tex_links, bound_limit_em), CHECK_SCRIPT.name
    )
    if len(verdicts) != len(items):
        raise MathJaxFailed(f"{CHECK_SCRIPT.name} answered {len(verdicts)} of {len(items)}")
    return [_verdict(verdict) for verdict in verdicts]


def _pipe(stream: IO[str] | None) -> IO[str]:
    """One of node's pipes: Popen made all three (PIPE), so none is None."""
    assert stream is not None
    return stream
