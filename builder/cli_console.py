"""cli_console: Rich's consoles as mathdeck prints through them, made only when a command line
needs Rich (a terminal, a table of its own; builder/cli_report.py decides)."""

from __future__ import annotations

import os

from rich.console import Console, ConsoleDimensions

from .cli_plain import UNWRAPPED


class PipeFriendlyConsole(Console):
    """Piped or redirected output is read by programs and pasted into issues: there a line stays
    one line (Rich would wrap it at 80 columns, mid-sentence). A terminal, or COLUMNS, keeps
    Rich's wrapping at its width. Decided at each print: CliRunner swaps the streams per call."""

    @property
    def size(self) -> ConsoleDimensions:
        if self.is_terminal or "COLUMNS" in os.environ:
            size = super().size
            if size.width > 0:
                return size
            # COLUMNS=0 (a width nobody knew): Rich would wrap every word away and print nothing
            return ConsoleDimensions(UNWRAPPED, size.height)
        return ConsoleDimensions(UNWRAPPED, 25)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:  # as Console's own setter
        self._width, self._height = new_size


def rich_console(stderr: bool) -> PipeFriendlyConsole:
    """stdout's console (results), or stderr's: problems and errors are `path:line: message`
    lines that editors and CI parse, never wrapped. emoji=False: Rich would show
    `cards.yaml:100:12:` with :100: as an emoji."""
    if stderr:
        return PipeFriendlyConsole(stderr=True, highlight=False, emoji=False, soft_wrap=True)
    return PipeFriendlyConsole(highlight=False, emoji=False)
