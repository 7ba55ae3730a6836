"""The files of a data folder, and CSV text read line by line.

Listing: every file with the format's suffix below the folder (hidden ones left
out), in sorted order; a
symbolic link whose target is outside the folder is refused, never opened (a data
folder must not pull in, or print a line of, a file elsewhere on the machine).

Reading: :class:`CsvRows` reads a CSV file in binary, one physical line at a time, so a
byte that is not UTF-8 is reported at its own line; a UTF-8 byte order mark is dropped;
rows come in chunks with their line numbers, so a large file never has to be held as
Python strings at once; the file's SHA-256 is computed on the way.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ._findings import FileProblem

#: Cells that mark a missing value in a column of numbers (compared in lower case).
MISSING = frozenset({"n/a", "na", "nan", "null", "none", "-", "?", "#n/a"})
#: A number written with a decimal comma (a European spreadsheet's export): ``-0,1304``.
DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+([eE][-+]?\d+)?")
#: The same with points between groups of thousands: ``1.234,5``, ``-12.000`` (never
#: with an exponent: ``1.234e3`` is a number written with a decimal point).
THOUSANDS_POINT = re.compile(r"[-+]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?")

#: Rows converted to numbers at a time: bounds the Python strings alive at once.
CHUNK_ROWS = 8192


def _hidden(root: Path, p: Path) -> bool:
    return any(part.startswith(".") for part in p.relative_to(root).parts)


def hidden_files(root: Path, suffix: str) -> list[Path]:
    """The files ending in ``suffix`` that :func:`data_files` leaves out as hidden."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.suffix.lower() == suffix and _hidden(root, p))


def _with_suffix(root: Path, suffix: str) -> Iterator[Path]:
    """Paths under ``root`` ending in ``suffix`` in any case (``.CSV``, ``.Wav``: what
    recorders and Windows tools write), hidden ones left out: a name or folder starting
    with ``.`` is a tool's, not data (macOS's ``._run1.csv`` resource forks, a notebook's
    ``.ipynb_checkpoints/`` copies, ``.git/``)."""
    return (p for p in root.rglob("*") if p.suffix.lower() == suffix and not _hidden(root, p))


def data_path(base_dir: Path, path: str | Path) -> Path:
    """``path`` relative to the spec's folder, absolute and normalised but with symbolic
    links kept: a data folder that is a link is shown as the spec names it, not as the
    folder it points to (files that leave it are checked by :func:`data_files`)."""
    return Path(os.path.abspath(base_dir / path))


def data_files(root: Path, suffix: str) -> tuple[list[Path], list[FileProblem]]:
    """Files ending in ``suffix`` under ``root`` (or ``root`` itself when it is a file).

    Returns:
        The usable files, sorted, and one problem per symbolic link that leaves the
        folder (or is broken), and per linked folder outside it that holds such files
        (never followed).
    """
    if root.is_file():
        return [root], []
    real_root = root.resolve()
    files: list[Path] = []
    problems: list[FileProblem] = []
    for d in sorted(root.rglob("*")):
        if d.is_symlink() and d.is_dir():
            target = d.resolve()
            if not target.is_relative_to(real_root) and next(_with_suffix(target, suffix), None):
                problems.append(
                    FileProblem(
                        d,
                        None,
                        f"a symbolic link to a folder outside the data folder, with {suffix} "
                        "files; mcuforge does not follow it: copy the files into the folder",
                    )
                )
    for p in sorted(_with_suffix(root, suffix)):
        if p.is_symlink():
            try:
                target = p.resolve(strict=True)
            except (OSError, RuntimeError):
                problems.append(FileProblem(p, None, "a broken symbolic link; remove it"))
                continue
            if not target.is_relative_to(real_root):
                problems.append(
                    FileProblem(
                        p,
                        None,
                        "a symbolic link to a file outside the data folder; mcuforge does "
                        "not follow it: copy the file into the folder instead",
                    )
                )
                continue
        if p.is_file():
            files.append(p)
    return files, problems


def _text(path: Path, handle: BinaryIO, digest: hashlib._Hash, seen: list[int]) -> Iterator[str]:
    """Lines of ``handle`` as text, each decoded alone so an error names its line;
    ``seen[0]`` counts the bytes read."""
    for number, raw in enumerate(handle, start=1):
        digest.update(raw)
        seen[0] += len(raw)
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise FileProblem(path, 1, "UTF-16 text; save the file as UTF-8")
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileProblem(
                path,
                number,
                f"byte {exc.start + 1} of the line ({raw[exc.start]:#04x}) is not UTF-8 "
                "text; save the file as UTF-8",
            ) from None


class CsvRows:
    """A CSV file's header and its rows in chunks, with line numbers (a context manager).
    Cells come as written; with ``decimal=","`` and ``as_points`` the numbers written with
    a decimal comma come with a point, without points between groups of thousands
    (``1.234,5`` as ``1234.5``: :func:`comma_number`). The loader converts the numeric
    columns itself (``_floats``), where a number written with a point is a bad cell.

    Raises:
        FileProblem: the file cannot be opened, is empty, is not UTF-8 text (at the line),
            is malformed CSV (at the line), or a row has another number of columns.
    """

    def __init__(
        self, path: Path, delimiter: str = ",", decimal: str = ".", as_points: bool = False
    ) -> None:
        self.path = path
        self.comma = decimal == ","  # numbers are written with a decimal comma
        self._convert = self.comma and as_points
        self.digest = hashlib.sha256()
        try:
            self._handle: BinaryIO = path.open("rb")
        except OSError as exc:
            raise FileProblem(path, None, f"cannot read: {exc.strerror}") from exc
        self._seen = [0]
        lines = _text(path, self._handle, self.digest, self._seen)
        self._reader = csv.reader(lines, delimiter=delimiter, strict=True)
        try:
            first = next(self._reader)
        except StopIteration:
            self.close()
            raise FileProblem(path, 1, "empty file; expected a header row") from None
        except csv.Error as exc:
            self.close()
            raise FileProblem(path, 1, f"not a CSV file ({exc})") from exc
        except FileProblem:
            self.close()
            raise
        self.header = [h.strip() for h in first]

    def rows_left(self, rows_read: int) -> int:
        """An estimate of the rows still to come, from the bytes per row so far."""
        size = os.fstat(self._handle.fileno()).st_size
        per_row = self._seen[0] / max(rows_read, 1)
        return int((size - self._seen[0]) / max(per_row, 1.0))

    def _commented(self) -> bool:
        """The first line is a comment (``# device: Pixel 7``), not a header: it starts
        with ``#`` or ``//`` and reads as words (a space or a ``:``), unlike ``#time``."""
        first = self.header[0] if self.header else ""
        return first.startswith(("#", "//")) and (" " in first or ":" in first)

    def column(self, name: str) -> int:
        return self.header.index(name)

    def need(self, names: list[str], fix: str, fields: dict[str, str] | None = None) -> None:
        """Every name is a column of the header, once. ``fields`` names the spec field
        each column comes from (``data.labels.column``), said beside a missing one with
        the header's closest spelling.

        Raises:
            FileProblem: at line 1, naming the missing or repeated columns.
        """
        missing = [c for c in names if c not in self.header]
        if missing:
            if self._commented():
                fix += (
                    " The first line is read as the header: remove the lines above the "
                    "header (a logger's comments)."
                )
            raise FileProblem(
                self.path,
                1,
                f"header has no column {', '.join(self._missing(c, fields or {}) for c in missing)}"
                f"; found {', '.join(self.header)}. {fix}",
                [(c, (fields or {})[c]) for c in missing if c in (fields or {})],
            )
        twice = sorted({c for c in names if self.header.count(c) > 1})
        if twice:
            raise FileProblem(
                self.path, 1, f"column {', '.join(map(repr, twice))} appears twice in the header"
            )

    def _missing(self, name: str, fields: dict[str, str]) -> str:
        """``'sped' (data.labels.column; did you mean 'speed'?)``."""
        notes = [fields[name]] if name in fields else []
        by_lower = {h.lower(): h for h in self.header if h}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
        if close:
            notes.append(f"did you mean {by_lower[close[0]]!r}?")
        return repr(name) + (f" ({'; '.join(notes)})" if notes else "")

    def chunks(self) -> Iterator[tuple[list[int], list[list[str]]]]:
        """Rows (blank ones skipped) and the line each ends on, :data:`CHUNK_ROWS` at a time."""
        width = len(self.header)
        lines: list[int] = []
        rows: list[list[str]] = []
        reader = self._reader
        try:
            for row in reader:
                if not row or (not row[0].strip() and all(not c.strip() for c in row)):
                    continue
                if len(row) != width:
                    above = (
                        "; the first line is read as the header: remove the lines above "
                        "the header (a logger's comments)"
                        if self._commented()
                        else ""
                    )
                    raise FileProblem(
                        self.path,
                        reader.line_num,
                        f"expected {width} columns ({', '.join(self.header)}), found "
                        f"{len(row)}{above}",
                    )
                if self._convert:
                    row = [comma_number(c) if "," in c or "." in c else c for c in row]
                rows.append(row)
                lines.append(reader.line_num)
                if len(rows) == CHUNK_ROWS:
                    yield lines, rows
                    lines, rows = [], []
        except csv.Error as exc:
            raise FileProblem(self.path, reader.line_num, f"malformed CSV: {exc}") from exc
        if rows:
            yield lines, rows

    def sha256(self) -> str:
        """The file's SHA-256 (read the rest of the file first, if any)."""
        for raw in self._handle:
            self.digest.update(raw)
        return self.digest.hexdigest()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> CsvRows:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def comma_number(cell: str) -> str:
    """A cell written with a decimal comma (``-0,1304``) with a point, without points
    between thousands (``1.234,5``); other text as it is."""
    text = cell.strip()
    if DECIMAL_COMMA.fullmatch(text):
        return text.replace(",", ".")
    if THOUSANDS_POINT.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    return cell


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
