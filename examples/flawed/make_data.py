"""Write the flawed wristband data set in data/: clean recordings and a few bad ones.

This is how data/ was made; it is kept so the data can be checked and repeated:

    .venv/bin/python examples/flawed/make_data.py        # rewrites examples/flawed/data/

A 3-axis accelerometer (in g) at 50 Hz with a time stamp column ``t_ms``; four gestures,
one folder per class, one CSV file per recording of 4 s (200 samples):

* ``idle``: gravity on z and sensor noise; ``shake``: a 4-7 Hz oscillation on x and y;
  ``tap``: short spikes on z; ``wave``: a slow 1 Hz swing on y;
* recordings whose name starts with ``test_`` are the test set.

Then the flaws a real capture has, one each (see README.md): a row lost to a sensor
dropout (NaN), a file whose time stamps jitter by 40 %, a file with a gap of 0.5 s, a
recording cut short, a file written in milli-g instead of g, a stuck axis, a test file
that is a copy of a training file, and a class with only two recordings. Every random
choice is seeded, so the script writes the same bytes on every run.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

RATE_HZ = 50
SAMPLES = 200
CLASSES = {"idle": 8, "shake": 8, "tap": 8, "wave": 2}


def _gesture(name: str, rng: np.random.Generator) -> np.ndarray:
    """(samples, 3) accelerations in g."""
    t = np.arange(SAMPLES) / RATE_HZ
    x = rng.normal(0, 0.02, (SAMPLES, 3))
    x[:, 2] += 1.0  # gravity
    if name == "shake":
        f = rng.uniform(4, 7)
        x[:, 0] += rng.uniform(0.8, 1.5) * np.sin(2 * np.pi * f * t)
        x[:, 1] += rng.uniform(0.3, 0.8) * np.cos(2 * np.pi * f * t)
    elif name == "tap":
        for at in rng.choice(SAMPLES - 5, 4, replace=False):
            x[at : at + 3, 2] += rng.uniform(1.5, 3.0)
    elif name == "wave":
        x[:, 1] += 0.6 * np.sin(2 * np.pi * 1.0 * t + rng.uniform(0, np.pi))
    return x


def _write(path: Path, t_ms: np.ndarray, x: np.ndarray) -> None:
    lines = ["t_ms,ax,ay,az"]
    for ts, row in zip(t_ms, x, strict=True):
        lines.append(f"{ts:.0f}," + ",".join("nan" if np.isnan(v) else f"{v:.4f}" for v in row))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def make(out: Path) -> None:
    rng = np.random.default_rng(2024)
    if out.exists():
        shutil.rmtree(out)
    t_ms = np.arange(SAMPLES) * 1000.0 / RATE_HZ
    for name, count in CLASSES.items():
        for i in range(count):
            test = i >= count - 2 and count > 2
            stem = f"test_{i:02d}" if test else f"rec_{i:02d}"
            x = _gesture(name, rng)
            t = t_ms.copy()
            if (name, i) == ("idle", 3):  # a sensor dropout: one row lost
                x[117] = np.nan
            if (name, i) == ("idle", 4):  # a stuck axis
                x[:, 2] = 1.0
            if (name, i) == ("shake", 2):  # a clock that jitters by 40 %
                step = 1000.0 / RATE_HZ * (1 + 0.4 * np.where(np.arange(SAMPLES) % 2, 1, -1))
                t = np.concatenate([[0.0], np.cumsum(step[:-1])]).round()
            if (name, i) == ("shake", 4):  # 0.5 s lost while logging
                t[120:] += 500.0
            if (name, i) == ("tap", 1):  # the recording stopped early
                x, t = x[:36], t[:36]
            if (name, i) == ("tap", 5):  # written in milli-g
                x = x * 1000.0
            _write(out / name / f"{stem}.csv", t, x)
    # a training recording copied into the test set under another name
    shutil.copy(out / "idle" / "rec_02.csv", out / "idle" / "test_copy.csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent
    ap.add_argument("--out", type=Path, default=here / "data", help="where to write")
    make(ap.parse_args().out)


if __name__ == "__main__":
    main()
