"""What the CLI's command groups share: the console."""

from __future__ import annotations

import sys

from rich.console import Console

# Wide enough for the tables when the output goes to a file or a pipe (rich assumes 80 columns).
console = Console() if sys.stdout.isatty() else Console(width=160)


class PhaseBars:
    """One rich progress bar per stage or phase, made on its first report: the callback the synth
    stages and the learning loop take, `(name, done, total)`."""

    def __init__(self, progress) -> None:  # noqa: ANN001 - a rich.progress.Progress
        self.progress = progress
        self.bars: dict[str, object] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if name not in self.bars:
            self.bars[name] = self.progress.add_task(name, total=total)
        self.progress.update(self.bars[name], completed=done, total=total)

    def clear(self) -> None:
        for bar in self.bars.values():
            self.progress.remove_task(bar)
        self.bars.clear()
