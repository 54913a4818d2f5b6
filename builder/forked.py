"""forked: a call made in a forked child process, on another core, its result pickled back.

Python threads take turns at Python work (the GIL), so work that is Python through and through
(the card linter) can only use a second core from another process. fork() gives the child the
parent's memory as it is (copy-on-write): nothing is sent to it, and only the result (a few
warnings) comes back through a pipe. Where there is no fork, or the child
fails (killed, an error, a result pickle cannot carry), the call is made again in this process
when its result is asked for: the result, or the error, is always the call's own.
"""

from __future__ import annotations

import contextlib
import os
import signal  # imported at start anyway (shutil's); not in __del__ at exit
import sys
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")
# fork() without exec is sound where the child calls only what the parent's threads do not
# hold locks in; macOS's system libraries are not safe after fork in a process with threads.
CAN_FORK = sys.platform == "linux"
# Cards from which work done once a card pays for a child (the linter: ~0.08 s at 5,000 cards):
# a fork, the copy-on-write faults of the heap both processes then touch and the wait for a
# core the machine may not have free cost more below that.
CHILD_FROM_CARDS = 5_000
MAX_FD = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1 << 16


class ForkedCall(Generic[T]):
    """`call()` started in a child process (where CAN_FORK, and `fork`); result() waits for its
    value (or makes it, without a child)."""

    def __init__(self, call: Callable[[], T], fork: bool = True):
        self._call = call
        self._value: tuple[T] | None = None
        self._child: tuple[int, int] | None = None  # (pid, the read end of its pipe)
        if fork and CAN_FORK:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                _child(call, write)
            os.close(write)
            self._child = (pid, read)

    def result(self) -> T:
        """The call's value; its error raised here."""
        if self._value is None:
            answer = self._wait()
            # no child, or it failed: the call made here, where its error is raised
            self._value = answer if answer is not None else (self._call(),)
        return self._value[0]

    def cancel(self) -> None:
        """The value is not wanted: the child is stopped (result() would make it here)."""
        if self._child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._child[0], signal.SIGKILL)
            self._wait()

    def _wait(self) -> tuple[T] | None:
        """(value,) the child sent, or None."""
        if self._child is None:
            return None
        pid, read = self._child
        self._child = None
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            return None
        import pickle

        try:
            return (pickle.loads(data),)
        except Exception:  # a value that cannot be unpickled: make it here
            return None

    def __del__(self) -> None:
        # a build that failed before asking: the child is stopped and reaped all the same (no
        # zombie in `watch`, which builds for hours)
        if getattr(self, "_child", None) is not None:
            self.cancel()


def _child(call: Callable[[], object], write: int) -> NoReturn:
    """The child's whole life: the call, its pickled value, and an exit without Python's
    teardown (the parent's threads, files and atexit work are the parent's)."""
    import pickle  # here and in _wait: a build that forks nothing never imports it

    code = 1
    try:
        # Only its end of the pipe stays open beyond the standard streams: a child holding a copy
        # of the write end of node's stdin (or of any pipe read to its end) would keep node
        # waiting
        os.closerange(3, write)
        os.closerange(write + 1, MAX_FD)
        data = pickle.dumps(call(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)
