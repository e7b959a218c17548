"""What the CLI's command groups share: the console."""

from __future__ import annotations

import sys

from rich.console import Console

# Wide enough for the tables when the output goes to a file or a pipe (rich assumes 80 columns).
console = Console() if sys.stdout.isatty() else Console(width=160)
