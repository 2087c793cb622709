"""What the harness tells a user while it works: the :class:`Progress` protocol, a silent sink for the
Python API and tests, and a rich progress bar for the command line (rows done, the current row, time
left in its timing loop)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBar
from rich.text import Text


class Progress(Protocol):
    """What the harness reports while it works."""

    def message(self, text: str, style: str | None = None) -> None:
        """Say ``text`` (plain text: never parsed as markup) in an optional rich ``style``."""

    def start(self, total_rows: int) -> None: ...
    def row(self, label: str) -> None: ...
    def tick(self, fraction: float) -> None: ...
    def row_done(self) -> None: ...


class Silent:
    """A progress sink that says nothing (tests, the Python API)."""

    def message(self, text: str, style: str | None = None) -> None:
        pass

    def start(self, total_rows: int) -> None:
        pass

    def row(self, label: str) -> None:
        pass

    def tick(self, fraction: float) -> None:
        pass

    def row_done(self) -> None:
        pass


class RichProgress:
    """The harness's Progress on a rich console (stderr, so stdout keeps only the report)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = RichBar(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True,
        )
        self._rows = None
        self._done = 0.0

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def message(self, text: str, style: str | None = None) -> None:
        self._progress.console.print(Text(text, style=style or ""), highlight=False)

    def start(self, total_rows: int) -> None:
        self._rows = self._progress.add_task("rows", total=total_rows)

    def row(self, label: str) -> None:
        if self._rows is not None:
            self._progress.update(self._rows, description=label)

    def tick(self, fraction: float) -> None:
        if self._rows is not None:
            self._progress.update(self._rows, completed=self._done + min(fraction, 0.99))

    def row_done(self) -> None:
        self._done += 1
        if self._rows is not None:
            self._progress.update(self._rows, completed=self._done)
