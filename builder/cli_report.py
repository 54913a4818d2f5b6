"""What a command tells its user and how it ends: the consoles, the progress bar and the Report.

Like Black's report.py, a `Report` owns the counts, the warnings, the errors and the exit code;
every command makes one, tells it what happened and ends with `report.finish()`. Everything
printed goes through here (stdout: results; stderr: problems, progress), so the rest of
`builder/` stays silent.

Exit codes: 0 success, 1 problems in the sources (or a failing figure script, a missed bench
target, a refused push), 2 usage errors (Typer's own, and `usage_error`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, NoReturn

from .cli_plain import plain_line, plain_stream, plain_table
from .problems import Problem, SourceError, errors_in, warnings_in

if TYPE_CHECKING:
    from .cli_console import PipeFriendlyConsole


class Output:
    """stdout's or stderr's console: Rich's (builder/cli_console.py), made on first need, or for
    what Rich would print as it is (builder/cli_plain.py: a line or the summary table on a pipe)
    the stream itself, without importing Rich. Anything else a caller asks goes to Rich's."""

    def __init__(self, stderr: bool):
        self.stderr = stderr
        self._console: PipeFriendlyConsole | None = None

    @property
    def console(self) -> PipeFriendlyConsole:
        if self._console is None:
            from .cli_console import rich_console

            self._console = rich_console(self.stderr)
        return self._console

    def print(self, text="", *args, markup: bool = True, **kwargs) -> None:
        if not args and not kwargs and isinstance(text, str):
            line = plain_line(text, markup, wrapped=not self.stderr)
            if line is not None and self._print_plain(line):
                return
        try:
            self.console.print(text, *args, markup=markup, **kwargs)
        except OSError as error:  # Rich handles a closed pipe itself
            self._unwritable(error)

    def print_table(self, title: str, rows: list[tuple[str, str]]) -> None:
        """A two-column table with a title and no header (the build summary)."""
        table = plain_table(title, rows)
        if table is not None and self._print_plain(table):
            return
        from rich.table import Table

        rich_table = Table(title=title, show_header=False)
        for row in rows:
            rich_table.add_row(*row)
        try:
            self.console.print(rich_table)
        except OSError as error:
            self._unwritable(error)

    def _print_plain(self, text: str) -> bool:
        """Print as Rich would (which flushes each print, and ends the run on a closed pipe), if
        the stream is one Rich prints plainly to."""
        stream = plain_stream(self.stderr)
        if stream is None:
            return False
        try:
            stream.write(text + "\n")
            stream.flush()
        except OSError as error:
            self._unwritable(error)
        return True

    def _unwritable(self, error: OSError) -> NoReturn:
        if self.stderr:  # nowhere left to say it
            self.console.on_broken_pipe()
        stdout_failed(error)

    def __getattr__(self, name: str):
        return getattr(self.console, name)


out = Output(stderr=False)
# Problems and errors are `path:line: message` lines that editors and CI parse: never wrapped.
err = Output(stderr=True)


def stdout_failed(error: OSError) -> NoReturn:
    """stdout cannot be written: a closed pipe (`| head -1`) ends the run as Rich does (exit 1,
    silently), any other error (a full disk under `> file`) is said in a line on stderr first.
    Only the printing is lost: a command prints after writing its files."""
    if not isinstance(error, BrokenPipeError):
        from .commit import os_error_text

        with suppress(OSError, ValueError):
            sys.stderr.write(f"error: cannot write to stdout: {os_error_text(error)}\n")
            sys.stderr.flush()
    with suppress(OSError, ValueError, AttributeError):  # Python's last flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(1)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 card", "1,145 cards" ("1 entry", "3 entries" with `nouns`)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


class Report:
    """A command's outcome: what it did, what went wrong, and so its exit code. (A plain class:
    builder/records.py says why.)"""

    def __init__(self) -> None:
        self.errors = 0  # source problems that stop the command
        self.warnings = 0  # source problems it reported and went on past
        self.failures: list[str] = []  # anything else that makes the run fail
        self.usage = False  # the command line itself was wrong

    @property
    def exit_code(self) -> int:
        if self.usage:
            return 2
        return 1 if self.errors or self.failures else 0

    def problems(self, problems: list[Problem]) -> None:
        """Every problem, sorted, one `path:line:col: CODE message` line each, on stderr."""
        for problem in sorted(problems):
            err.print(str(problem), markup=False)
        self.errors += len(errors_in(problems))
        warned = len(warnings_in(problems))
        self.warnings += warned
        if warned:
            err.print(
                f"[yellow]{plural(warned, 'warning')}[/] (the command goes on; each names its fix)"
            )

    def done(self, message: str) -> None:
        out.print(f"[green]✓[/] {message}")

    def say(self, message: str, markup: bool = True) -> None:
        out.print(message, markup=markup)

    def failed(self, message: str, detail: str | None = None) -> None:
        """A failure that is not a source problem: one line on stderr (and its detail, verbatim)."""
        self.failures.append(message)
        err.print(f"[bold red]error:[/] {message}")
        if detail:
            err.print(detail, markup=False)

    def usage_error(self, message: str) -> NoReturn:
        """The command line itself is wrong (a value Typer cannot judge): one line, exit 2."""
        self.usage = True
        err.print(f"Usage error: {message}", markup=False)
        _exit(self.exit_code)

    def finish(self) -> None:
        """End the command with its exit code (nothing to do on success)."""
        if self.exit_code:
            _exit(self.exit_code)

    @contextmanager
    def stopping(self, writes: bool = True) -> Iterator[Report]:
        """Source problems, failing figure scripts and OS errors (full disk, read-only folder) end
        the run at once with exit 1 and no traceback, saying what was and was not written (for a
        command that `writes`: `check` never does, so it never says so)."""
        nothing = "; nothing was written." if writes else "."
        try:
            yield self
        except SourceError as error:
            self.problems(error.problems)
            err.print(f"[bold red]{plural(len(errors_in(error.problems)), 'problem')}[/]{nothing}")
        except Exception as error:
            if not self._failed_with(error, nothing):
                raise
        except KeyboardInterrupt:
            interrupted()
        else:
            return
        self.finish()

    def _failed_with(self, error: Exception, nothing: str) -> bool:
        """Report a failure that ends the run; False for any other exception."""
        told = failure_told(error, nothing)
        if told is not None:
            self.failed(*told)
        return told is not None


def failure_told(error: BaseException, nothing: str) -> tuple[str, str | None] | None:
    """The line (and its detail, verbatim) telling a failure that ends a build (a write, the OS,
    a figure script, MathJax missing or failing); None for a bug. Their modules are imported only
    when one is raised: an edit's build asks node before it imports packaging and figures."""
    from .commit import WriteError, os_error_text
    from .figures import FigureError
    from .mathjax_install import MathJaxFailed, MathJaxUnavailable
    from .mathjax_typeset import TypesettingFailed

    if isinstance(error, WriteError):
        return str(error), written_report(error)
    if isinstance(error, OSError):
        return f"{os_error_text(error)}{nothing}", None
    if isinstance(error, FigureError):
        return f"figure '{error.name}' failed{nothing} Its traceback:", error.traceback_text
    if isinstance(error, TypesettingFailed):  # the HTML page's, after the checks passed
        return f"cannot typeset the page's formulas{nothing} {error}", None
    if isinstance(error, MathJaxUnavailable):
        return f"cannot check formulas: {error}", None
    if isinstance(error, MathJaxFailed):
        return f"MathJax's checker failed{nothing} node said: {error}", None
    return None


_interruption_said = False


def interrupted() -> NoReturn:
    """Ctrl-C (or SIGTERM, see cli.main): `interrupted` once on stderr, exit 130. Typer ends a run
    it interrupts silently (exit 130) and cli.main says it for a command line answered without
    Typer: each says it here."""
    global _interruption_said
    if not _interruption_said:
        _interruption_said = True
        err.print("interrupted")
    _exit(130)


def _exit(code: int) -> NoReturn:
    # SystemExit, not typer.Exit: cli_replay runs `build` through a Report without Typer (which
    # lets SystemExit through, to the same exit code)
    raise SystemExit(code)


def show_install_notices() -> None:
    """An installed mathdeck fetches MathJax once, into a per-user cache: say so while it does."""
    from . import mathjax_install

    mathjax_install.install_notice = lambda message: err.print(
        message, markup=False, soft_wrap=True
    )


def written_report(error) -> str:
    """What a commit.WriteError left written and what it did not, and how to finish."""
    from .problems import Location

    def shown(paths) -> str:
        return ", ".join(str(Location(path)) for path in paths) or "nothing"

    return (
        f"Written: {shown(error.written)}. Not written: {shown(error.not_written)} "
        "(files already there are untouched). "
        "Fix the cause and run the same command again: it completes what is missing."
    )


def error_line(error: BaseException) -> str:
    """One failed watch rebuild, told as `build` tells it (a figure's traceback on the lines
    after): the watcher goes on."""
    told = failure_told(error, "; nothing was written.")
    if told is None:
        return f"{type(error).__name__}: {error} (a bug in mathdeck: please report it)"
    message, detail = told
    return message if detail is None else f"{message}\n{detail}"


@contextmanager
def stages() -> Iterator:
    """The stage under way, with a bar and a count for stages that count their items
    ("Typesetting formulas with MathJax ━━━━ 1,145/1,145"), on stderr so stdout keeps only the
    results. Transient: a terminal is left with the summary; piped output gets nothing."""
    # a pipe needs no Rich to know it; otherwise Rich's console decides
    if plain_stream(stderr=True) is not None or not err.console.is_interactive:
        yield _no_progress  # nothing to show (and Rich would end with an empty line)
        return
    # Imported only for a terminal: rich.progress costs ~7 ms of an edit's build
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
    from rich.text import Text

    class BarWhenCounted(BarColumn):
        """A stage that does not count its items shows no bar (only the spinner and its name)."""

        def render(self, task):
            return super().render(task) if task.total is not None else Text("")

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarWhenCounted(bar_width=24),
        TextColumn("{task.fields[count]}"),
    )
    with Progress(*columns, console=err.console, transient=True) as bar:
        task = bar.add_task("Starting", total=None, count="")

        def show(stage: str, done: int | None = None, total: int | None = None) -> None:
            count = f"{done:,}/{total:,}" if total is not None else ""
            bar.update(task, description=stage, completed=done or 0, total=total, count=count)

        yield show


def _no_progress(stage: str, done: int | None = None, total: int | None = None) -> None:
    """Progress where there is no terminal to show it on."""
