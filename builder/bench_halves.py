"""bench_halves: the two halves of a cold build, each timed without the other, so the cold rows
can be read against what no build of that deck can beat on this machine.

- MathJax alone: the deck's distinct formulas, exactly as the build gathers them (check.deck_facts,
  deck macros expanded), sent to one fresh node checker (check_math.FormulaChecker, the build's
  own: batches of 500, the first at once, every core it wants) with no Python work in between.
- Python alone: a whole cold `mathdeck build` process whose MathJax verdicts are already in the
  project's cache (every other cache removed), so node never starts.

A cold build needs at least the longer of the two (both run at once, one per core, when the
machine has two), and the sum of their CPU seconds spread over the cores.
"""

from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from .bench_runs import Run, build_run
from .bench_table import Row
from .memo import CACHE_NAMES

# the folder of .cache/build/ that holds MathJax's verdicts (in memo.BuildCaches.open's order)
_cards, _checked, _notes, VERDICTS, _packages, _lint = CACHE_NAMES


def deck_formulas(cards_dir: Path) -> list[tuple[str, bool]]:
    """The distinct (tex, display) items a cold build of the deck sends to node, in its order."""
    from .check import deck_facts
    from .load import load_deck

    formulas: dict[tuple[str, bool], None] = {}
    for facts in deck_facts(load_deck(cards_dir)):
        for fact in facts or ():
            formulas.update(dict.fromkeys(fact.formulas or ()))
    return list(formulas)


def mathjax_alone(formulas: list[tuple[str, bool]]) -> Run:
    """One fresh node checker given every formula at once, as a cold build would if its Python
    work took no time: wall seconds to the last verdict, node's CPU seconds."""
    from .check_math import FormulaChecker

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    checker = FormulaChecker()
    checker.add(formulas)
    verdicts = checker.finish()
    seconds = time.perf_counter() - started
    if any(error for error, *_ in verdicts.values()):
        raise RuntimeError("the benchmark deck's formulas should all be valid TeX")
    _wait_for_node_to_exit(before)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(seconds, cpu, rss=0.0)  # RUSAGE_CHILDREN's peak is every child's so far: not shown


def _wait_for_node_to_exit(before: resource.struct_rusage, patience: float = 10.0) -> None:
    """node's exit is reaped by a background thread (mathjax.TexStream): its CPU is counted in
    RUSAGE_CHILDREN only once it has been."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        if now.ru_utime + now.ru_stime > before.ru_utime + before.ru_stime:
            return
        time.sleep(0.01)


def python_alone(project: Path, epoch: int) -> Run:
    """A cold build of `project` (built once before) with only MathJax's verdicts cached."""
    build_cache = project / ".cache" / "build"
    kept = project / ".verdicts-kept"
    shutil.rmtree(kept, ignore_errors=True)
    (build_cache / VERDICTS).rename(kept)
    shutil.rmtree(project / ".cache", ignore_errors=True)
    shutil.rmtree(project / "dist", ignore_errors=True)
    (project / "cards" / "mathdeck.lock.json").unlink(missing_ok=True)
    build_cache.mkdir(parents=True)
    kept.rename(build_cache / VERDICTS)
    return build_run(project, epoch, force=True)


def halves_rows(
    project: Path, count: int, runs: int, epoch: int, report: Callable[[str], None]
) -> list[Row]:
    """Both halves of the cold build just timed in `project`, `runs` times each, interleaved."""
    formulas = deck_formulas(project / "cards")
    mathjax, python = [], []
    for _ in range(runs):
        mathjax.append(mathjax_alone(formulas))
        python.append(python_alone(project, epoch))
        report(
            f"{count:,} cards, cold halves: MathJax alone {mathjax[-1].seconds:.2f} s "
            f"({mathjax[-1].cpu:.2f} CPU s), Python alone {python[-1].seconds:.2f} s "
            f"({python[-1].cpu:.2f} CPU s)"
        )
    return [
        _row(f"{count:,} cards, cold: MathJax alone ({len(formulas):,} formulas)", mathjax),
        _row(f"{count:,} cards, cold: Python alone (MathJax's verdicts cached)", python),
    ]


def _row(case: str, runs: list[Run]) -> Row:
    seconds, cpu = [run.seconds for run in runs], [run.cpu for run in runs]
    return Row(case, seconds, note="what no cold build can beat", cpu=cpu)
