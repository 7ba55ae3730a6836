"""The output folder: never delete what mcuforge did not write, never be without an output.

* **Inputs are safe.** The output may not be an input (the spec's folder, the data, a
  catalog, the lock, a calibration file), contain one, or lie inside the data or a
  catalog folder (:func:`input_problem`).
* **Only our own folders are replaced.** Every output holds :data:`MARKER`; ``--force``
  replaces a non-empty folder only when it carries it (:func:`replace_problem`).
* **One run per output.** :class:`OutputLock` is an exclusive ``flock`` on
  ``.OUT.lock`` beside the output (and beside the search's SQLite study, which lives
  there too), held from before the search until the output is in place; a second run
  stops at once with a clear message. The kernel drops the lock of a killed run.
* **Crash-safe replacement.** The new output is written into ``.OUT.tmp-PID-TOKEN``
  beside it (:func:`stage`), then swapped with the old one in one atomic step:
  ``renameat2(RENAME_EXCHANGE)`` on Linux, ``renamex_np(RENAME_SWAP)`` on macOS
  (:func:`commit`), so at every moment the path holds the old or the new output,
  whole. Where the file system cannot exchange (NFS, other systems), two renames are
  used and a run killed between them leaves the old output as ``.OUT.old-PID-TOKEN``,
  which the next run puts back. Leftovers of killed runs are removed by the next run
  (:func:`clean_stale`); a folder is removed only when it carries the marker, which
  is written first and deleted last.
* **Usual permissions.** Folders and files are created with the process umask (0755 /
  0644 under the common umask 022), not mkdtemp's 0700.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import socket
import sys
from pathlib import Path
from types import TracebackType

from .errors import OutputError

#: The file that marks a folder as an mcuforge output.
MARKER = ".mcuforge-output"


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and restore it at once
    os.umask(mask)
    return mask


class OutputBusyError(OutputError):
    """Another run holds the output (and its study)."""


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


class OutputLock:
    """An exclusive lock on an output folder (and the SQLite study beside it).

    Raises (on enter):
        OutputBusyError: another process holds it; names that process.
    """

    def __init__(self, out: Path) -> None:
        self.path = lock_path(out)
        self.out = out
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create the folder of the output {self.out}: {exc.strerror or exc}"
            ) from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise OutputError(f"cannot write beside {self.out}: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputBusyError(
                    f"another mcuforge run{holder} is using {self.out} (and its search study); "
                    "wait for it to finish, or write to another output directory"
                ) from None
            try:  # the file may have been removed by the holder between open and flock
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        self.fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)  # while held: nobody can be waiting on it
            os.close(self.fd)
            self.fd = None


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f" (pid {int(info['pid'])} on {info['host']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def input_problem(out: Path, inputs: list[Path], folders: list[Path]) -> str | None:
    """Why ``out`` cannot be the output, given the run's inputs; None when it can.

    Args:
        out: the output folder (resolved).
        inputs: every file and folder the run reads (spec, its folder, data, catalogs,
            lock, calibration), resolved.
        folders: the input folders the output may not lie inside (data, catalogs).
    """
    if out in inputs:
        return f"the output folder {out} is an input of this run; choose a folder of its own"
    for path in inputs:
        if path.is_relative_to(out):
            return (
                f"the output folder {out} contains {path}, an input of this run "
                "(replacing the output would delete it); choose a folder of its own, e.g. out/"
            )
    for folder in folders:
        if out.is_relative_to(folder):
            return (
                f"the output folder {out} lies inside {folder}, an input folder of this run; "
                "choose a folder outside it"
            )
    return None


def replace_problem(out: Path, force: bool) -> str | None:
    """Why writing ``out`` would lose something; None when it is absent, empty or ours."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        return f"output {out} exists and is not a directory"
    if not out.is_dir() or not any(out.iterdir()):
        return None
    if not (out / MARKER).is_file():
        return (
            f"output directory {out} is not empty and was not written by mcuforge (it has "
            f"no {MARKER}); mcuforge replaces only its own outputs, even with --force: "
            "empty it yourself or choose another directory"
        )
    if not force:
        return f"output directory {out} is not empty; pass --force to replace it"
    return None


_STALE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]{8}$")


def _remove_ours(folder: Path) -> bool:
    """Remove a folder that carries the marker (the marker last); False when not ours."""
    marker = folder / MARKER
    if folder.is_symlink() or not folder.is_dir():
        return False
    if not marker.is_file():
        if any(folder.iterdir()):
            return False
        folder.rmdir()  # killed between mkdir and the marker: empty
        return True
    for child in folder.iterdir():
        if child.name == MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    marker.unlink()
    folder.rmdir()
    return True


def clean_stale(out: Path) -> list[str]:
    """Undo what killed runs left beside ``out``; call with the :class:`OutputLock` held.

    An old output moved aside by the two-rename fallback is put back when ``out`` is
    missing; every other ``.OUT.tmp-*`` / ``.OUT.old-*`` folder carrying the marker
    is removed. Returns what was done, for the log.
    """
    done: list[str] = []
    if not out.parent.is_dir():
        return done
    stale = sorted(
        p for p in out.parent.iterdir() if (m := _STALE.match(p.name)) and m["name"] == out.name
    )
    for path in stale:
        moved_aside = path.name.startswith(f".{out.name}.old-") and (path / MARKER).is_file()
        if moved_aside and not out.exists():
            os.rename(path, out)
            done.append(f"restored {out} from an interrupted replacement")
            continue
        if _remove_ours(path):
            done.append(f"removed {path.name}, left by an interrupted run")
    return done


def stage(out: Path, marker: dict[str, str]) -> Path:
    """A new, empty staging folder beside ``out``, carrying the marker."""
    out.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(tmp, 0o777)  # the umask applies
            break
        except FileExistsError:
            continue
    (tmp / MARKER).write_text(json.dumps({"written_by": "mcuforge", **marker}, indent=2) + "\n")
    return tmp


def discard(tmp: Path) -> None:
    """Remove a staging folder after a failed run."""
    if tmp.exists():
        _remove_ours(tmp)


AT_FDCWD = -100
RENAME_EXCHANGE = 2  # linux/fs.h
RENAME_SWAP = 2  # macOS sys/stdio.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        rc = libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), RENAME_SWAP)
    else:
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def commit(tmp: Path, out: Path) -> None:
    """Put the staged output in place of ``out``; the old one is removed afterwards."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        _remove_ours(tmp)  # tmp now holds the old output
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    if not (out / MARKER).is_file():  # an empty folder of the user's: ours from now on
        (out / MARKER).write_text("{}\n")
    os.rename(out, old)
    os.rename(tmp, out)
    _remove_ours(old)


__all__ = [
    "MARKER",
    "OutputBusyError",
    "OutputLock",
    "clean_stale",
    "commit",
    "current_umask",
    "discard",
    "input_problem",
    "lock_path",
    "replace_problem",
    "stage",
]
