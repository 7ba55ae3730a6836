"""NPZ and WAV recordings."""

from __future__ import annotations

import wave
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ._csv import KEEP_BAD, BadCell, Recording
from ._findings import FileProblem


def _recording(
    file: str, label: str | None, x: np.ndarray, channels: list[str], subject: str | None = None
) -> Recording:
    """A recording of float64 samples ``x`` (time, channels), its non-finite ones noted."""
    where = np.argwhere(~np.isfinite(x))
    bad = tuple(
        BadCell(None, channels[int(c)], str(x[t, c]), "is not finite", sample=int(t))
        for t, c in where[:KEEP_BAD]
    )
    return Recording(file, label, x.astype(np.float32), None, subject, bad=bad, n_bad=len(where))


def npz_keys(names: list[str]) -> tuple[str | None, str | None]:
    """The archive's samples and labels: ``x`` and ``y``, or ``X`` and ``Y`` (or ``X``
    with ``y``: scikit-learn's spelling)."""
    x = "x" if "x" in names else "X" if "X" in names else None
    y = "y" if "y" in names else "Y" if "Y" in names else None
    return x, y


def read_npz(
    path: Path, rel: str, channels: list[str], folder_label: str | None
) -> list[Recording]:
    """Recordings of one ``.npz``: ``x`` (time, channels) with an optional scalar ``y``,
    or ``x`` (recordings, time, channels) with ``y`` (recordings,); optional ``subject``
    (``X`` and ``Y`` too, see :func:`npz_keys`).

    Raises:
        FileProblem: not an archive, missing arrays, wrong shapes.
    """
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an archive of named arrays")
        with archive:
            xk, yk = npz_keys(archive.files)
            if xk is None:
                found = ", ".join(archive.files) or "nothing"
                raise FileProblem(path, None, f"no array `x` (or `X`); found {found}")
            x = np.asarray(archive[xk], dtype=np.float64)
            y = archive[yk] if yk is not None else None
            subj = archive.get("subject")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        why, fix = str(exc), "save it with numpy.savez"
        if "Object arrays" in why:  # numpy's advice is to load it unsafely
            why, fix = "an array holds Python objects", "save labels with .astype(str)"
        elif "allow_pickle" in why or "pickled" in why:
            why = "not an archive: the file is not in NumPy's .npz format"
        raise FileProblem(
            path, None, f"not a NumPy .npz archive of numbers ({why}); {fix}"
        ) from exc
    if x.ndim == 2:
        x = x[None]
        y = None if y is None else np.asarray(y).reshape(1)
        subj = None if subj is None else np.asarray(subj).reshape(1)
    if x.ndim != 3 or x.shape[2] != len(channels):
        raise FileProblem(
            path,
            None,
            f"`x` has shape {x.shape}; expected (time, {len(channels)}) or "
            f"(recordings, time, {len(channels)}) for channels {', '.join(channels)}",
        )
    if y is None and folder_label is None:
        raise FileProblem(path, None, "no array `y` and no class folder; add labels to the archive")
    if y is not None and len(y) != len(x):
        raise FileProblem(path, None, f"`y` has {len(y)} entries for {len(x)} recordings in `x`")
    out = []
    for i in range(len(x)):
        label = str(y[i]) if y is not None else folder_label
        subject = str(subj[i]) if subj is not None else None
        name = f"{rel}#{i}" if len(x) > 1 else rel
        rec = _recording(name, label, x[i], channels, subject)
        out.append(rec if name == rel else replace(rec, source=rel))
    return out


def read_wav(path: Path, rel: str, rate_hz: float, label: str, channel: str) -> Recording:
    """One mono PCM WAV file (8/16/32-bit), scaled to [-1, 1).

    Raises:
        FileProblem: not a WAV file, not mono, or a sample rate other than ``rate_hz``.
    """
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, n = (
                w.getnchannels(),
                w.getsampwidth(),
                w.getframerate(),
                w.getnframes(),
            )
            raw = w.readframes(n)
    except (wave.Error, EOFError, OSError) as exc:
        hint = "; save it as 16-bit PCM" if "unknown format" in str(exc) else ""
        why = f" ({exc})" if str(exc) else " (empty, or its header is cut short)"
        raise FileProblem(path, None, f"not a PCM WAV file{why}{hint}") from exc
    if len(raw) != n * width * channels:
        raise FileProblem(
            path,
            None,
            f"truncated: the header says {n} samples, the file holds "
            f"{len(raw) // max(width * channels, 1)}; write the file again",
        )
    if channels != 1:
        raise FileProblem(path, None, f"{channels} channels; mcuforge reads mono WAV files")
    if abs(rate - rate_hz) > 1e-6:
        raise FileProblem(
            path,
            None,
            f"sample rate {rate} Hz, but the spec says {rate_hz:g} Hz; "
            "resample the file or fix `rate_hz`",
        )
    if width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0
    else:
        raise FileProblem(path, None, f"{8 * width}-bit samples are not supported; use 16-bit PCM")
    if len(x) == 0:
        raise FileProblem(path, None, "no samples")
    return _recording(rel, label, x[:, None], [channel])
