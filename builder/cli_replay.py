"""cli_replay: command lines answered without Typer, from what the same command line printed before.

Typer, Rich's help and the parameter coercion behind them (pydantic) take longer to import than a
no-op build takes to run. So `mathdeck` first looks, with the standard library and a little of
builder/, whether the command line can be answered from what it did last time:

- `--help` (or `-h`) anywhere: the help Typer printed for the same command line in the same
  folder, the same mathdeck and libraries, the same environment and the same terminal (its size,
  whether each stream is one), kept in the per-user cache. Anything different renders it afresh.
- `build` with nothing changed since the same command line last built (builder/build_stamp.py):
  the summary a full build would print, printed by the same code (cli_summary.py).
- any other `build` of a command line Typer read before (an edit): the build itself, run with
  the values Typer gave its options then (cli_build_run.py), so it prints what Typer's run would.

What is kept is written while Typer runs the command line (`recording`): the help text exactly
as printed and a build's stamp, only when it succeeded; the values of a build's options, once
Typer has read them.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from .user_cache import read_kept, stamps_dir

if TYPE_CHECKING:
    from .build_stamp import Invocation
    from .cli_build_run import BuildArguments

HELP_FLAGS = ("-h", "--help")
# Variables that change from one shell command to the next and mean nothing to the help.
VOLATILE_ENVIRONMENT = ("_", "OLDPWD", "PWD", "SHLVL")

_recording: list[str] | None = None  # the command line Typer is running, while it runs
help_shown = False  # set when Typer renders a help page (cli_options' command classes)


def replay(argv: list[str]) -> int | None:
    """Answer `argv` as it was answered before and return the exit code, or None when Typer must
    run it (always with MATHDECK_REPLAY=0: `mathdeck bench` times the full path so)."""
    if os.environ.get("MATHDECK_REPLAY") == "0":
        return None
    if any(flag in argv for flag in HELP_FLAGS):
        return _replay_help(argv)
    if argv[:1] == ["build"]:
        return _replay_build(argv)
    return None


@contextmanager
def recording(argv: list[str]) -> Iterator[None]:
    """Run Typer on `argv` inside: keeps the help it printed, and lets `build` keep its stamp."""
    global _recording, help_shown
    _recording, help_shown = argv, False
    tee = _Tee(sys.stdout) if any(flag in argv for flag in HELP_FLAGS) else None
    # the key of the conditions the help is rendered in, taken before Typer runs
    help_path = _help_path(argv) if tee is not None else None
    try:
        if tee is None:
            yield
        else:
            sys.stdout = tee
            try:
                yield
            finally:
                sys.stdout = tee.stream
    except SystemExit as done:
        if help_path is not None and tee is not None and help_shown and done.code in (0, None):
            _keep_help(help_path, "".join(tee.written))
        raise
    finally:
        _recording = None


def recorded_invocation() -> Invocation | None:
    """The command line Typer is running, as `build` keeps it; None when Typer was called by
    other means (the tests' CliRunner): nothing is kept for it."""
    if _recording is None:
        return None
    from .build_stamp import Invocation

    return Invocation.current(_recording)


# ---------------------------------------------------------------- help


def _replay_help(argv: list[str]) -> int | None:
    try:
        text = read_kept(_help_path(argv)).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text:  # kept without fsync (it only saves time): a crash can leave the file empty
        return None
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as error:
        from .cli_report import stdout_failed

        stdout_failed(error)
    return 0


def _keep_help(path: Path, text: str) -> None:
    from .atomic import write_atomically
    from .build_stamp import forget_old_stamps

    with suppress(OSError):  # kept only to save time
        write_atomically(path, text.encode("utf-8"), durable=False)
        forget_old_stamps(path.parent)


def _help_path(argv: list[str]) -> Path:
    """Where the help for this command line, in this terminal and environment, is kept."""
    from .cache import code_fingerprint
    from .content_hash import content_key

    environment = sorted(
        (name, value) for name, value in os.environ.items() if name not in VOLATILE_ENVIRONMENT
    )
    terminal = [(_is_terminal(fd), _terminal_size(fd)) for fd in (0, 1, 2)]
    # sys.orig_argv: `python -m builder.cli` and `mathdeck` name the program differently; the
    # folder, in case a default shown in the help ever depends on it
    key = content_key(
        "help", sys.orig_argv, argv, os.getcwd(), environment, terminal, code_fingerprint()
    )
    return stamps_dir("help") / f"{key}.txt"


def _is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _terminal_size(fd: int) -> tuple[int, int] | None:
    try:
        return tuple(os.get_terminal_size(fd))  # type: ignore[return-value]
    except (OSError, ValueError):
        return None


class _Tee:
    """sys.stdout that also keeps what was written (whatever asks it about the stream, such as
    Rich asking whether it is a terminal, gets the real stream's answer)."""

    def __init__(self, stream):
        self.stream = stream
        self.written: list[str] = []

    def write(self, text: str) -> int:
        # written first: click probes with bytes, which the real (text) stream refuses
        try:
            count = self.stream.write(text)
        except OSError as error:  # Typer's help (Rich's console) would end in a traceback
            from .cli_report import stdout_failed

            stdout_failed(error)
        self.written.append(text)
        return count

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


# ---------------------------------------------------------------- build


def _replay_build(argv: list[str]) -> int | None:
    from .build_stamp import Invocation, replayed_build

    invocation = Invocation.current(argv)
    summary = replayed_build(stamps_dir("builds"), invocation)
    if summary is None:
        return _build_with_kept_arguments(invocation)
    from .cli_report import Report
    from .cli_summary import print_summary

    report = Report()
    print_summary(report, summary)
    return report.exit_code


def _build_with_kept_arguments(invocation: Invocation) -> int | None:
    """Run `build` with the options Typer resolved for the same command line before (exits
    non-zero on failure, as the full path does); None when there are none to reuse."""
    arguments = _kept_arguments(invocation)
    if arguments is None:
        return None
    from .cli_build_run import run_build
    from .cli_report import show_install_notices

    show_install_notices()
    run_build(arguments, invocation)
    return 0


# ---------------------------------------------------------------- build options, as Typer read them


def keep_build_arguments(arguments: BuildArguments, cards_given: bool) -> None:
    """While Typer runs a `build` command line: keep the values it resolved for its options, for
    the next run of the same command line (`cards_given` False: `--cards` took its default,
    which depends on the folder's files, so it is looked up again each time)."""
    if _recording is None:
        return
    from .atomic import write_atomically
    from .build_stamp import Invocation, forget_old_stamps

    values = {name: getattr(arguments, name) for name in arguments.field_names}
    kept = {
        name: str(value) if isinstance(value, Path) else value for name, value in values.items()
    }
    if not cards_given:
        kept["cards"] = None
    path = _arguments_path(Invocation.current(_recording))
    with suppress(OSError):  # kept only to save time
        write_atomically(path, json.dumps(kept).encode("utf-8"), durable=False)
        forget_old_stamps(path.parent)


def _kept_arguments(invocation: Invocation) -> BuildArguments | None:
    """The options Typer resolved for this command line before, if Typer would resolve them the
    same now; None when unsure (Typer then runs it)."""
    from .cli_build_run import BuildArguments
    from .project import default_deck_dir

    path = _arguments_path(invocation)
    try:
        kept = json.loads(read_kept(path))
        # used now: the newest STAMPS_KEPT are kept, and a command line run again and again
        # (the edit loop) must not age out behind others written since, into Typer's slow path
        with suppress(OSError):
            os.utime(path)
        cards = default_deck_dir() if kept["cards"] is None else Path(kept["cards"])
        arguments = BuildArguments(
            cards=cards,
            out_dir=None if kept["out_dir"] is None else Path(kept["out_dir"]),
            figures=None if kept["figures"] is None else Path(kept["figures"]),
            force=bool(kept["force"]),
            allow_note_type_change=bool(kept["allow_note_type_change"]),
            lang=str(kept["lang"]),
            strict=bool(kept["strict"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folders = (arguments.cards, arguments.out_dir, arguments.figures)
    return arguments if all(_surely_accepted(f) for f in folders if f is not None) else None


def _surely_accepted(folder: Path) -> bool:
    """Typer accepts a folder option that names nothing yet or a readable directory (it refuses
    a file, an unreadable folder): anything else is left to it, with its own message."""
    try:
        found = folder.stat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.S_ISDIR(found.st_mode) and os.access(folder, os.R_OK)


def _arguments_path(invocation: Invocation) -> Path:
    """Where the options of this command line are kept: Typer's answer depends on the command
    line, the folder, mathdeck and its libraries, and the environment (except the variables
    only the build reads, which its own caches and stamp judge: SOURCE_DATE_EPOCH...)."""
    from .build_stamp import ENVIRONMENT
    from .cache import code_fingerprint
    from .content_hash import content_key

    ignored = set(VOLATILE_ENVIRONMENT) | set(ENVIRONMENT)
    environment = sorted((k, v) for k, v in os.environ.items() if k not in ignored)
    key = content_key(
        "build options", invocation.cwd, list(invocation.argv), environment, code_fingerprint()
    )
    return stamps_dir("arguments") / f"{key}.json"
