"""Output folders: checked writable before any work, and held by one run at a time (a lock file
that the operating system releases when the process ends, even on kill -9)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from .errors import UsageError

LOCK_NAME = ".planact.lock"


def check_writable(folder: Path) -> None:
    """UsageError unless `folder` exists as a writable folder or could be created; creates nothing."""
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"cannot use {folder} as an output folder: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {folder}: {probe} is not writable; choose another --output")
    if probe != folder:  # permissions are not the whole story (read-only mounts, /proc, quotas): try it
        created = folder.relative_to(probe).parts
        try:
            folder.mkdir(parents=True)
        except OSError as err:
            raise UsageError(f"cannot create the output folder {folder}: {err.strerror or err}") from None
        for i in range(len(created), 0, -1):  # and leave nothing behind
            (probe.joinpath(*created[:i])).rmdir()


class OutputLock:
    """`with OutputLock(folder):` the run owns `folder`; a second run on it is refused at once."""

    def __init__(self, folder: Path, what: str = "run") -> None:
        self.folder = Path(folder)
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> "OutputLock":
        check_writable(self.folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"cannot create the output folder {self.folder}: {err.strerror or err}") from None
        path = self.folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UsageError(f"{self.folder} is in use by another {self.what} (pid {holder}); wait for it to "
                             "finish or choose another output folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
