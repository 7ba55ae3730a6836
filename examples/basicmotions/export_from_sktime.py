"""Export BasicMotions (UEA archive, shipped inside sktime) as one CSV per recording.

This is how data/ was made; it is kept so the export can be checked and repeated:

    pip install 'mcuforge[bench]'   # sktime
    python examples/basicmotions/export_from_sktime.py

The archive's own train/test split is kept in the file names (train_NNN.csv,
test_NNN.csv) so that `data.split.test_files` in spec.yaml reproduces it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sktime.datasets import load_basic_motions

CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]  # dims 0-2 accelerometer, 3-5 gyroscope


def main() -> None:
    out = Path(__file__).resolve().parent / "data"
    if out.exists():
        shutil.rmtree(out)
    for split in ("train", "test"):
        x, y = load_basic_motions(split=split, return_type="numpy3D")
        counters: dict[str, int] = {}
        for rec, label in zip(x, y, strict=True):
            n = counters.get(label, 0)
            counters[label] = n + 1
            folder = out / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            lines = [",".join(CHANNELS)]
            lines += [",".join(repr(float(v)) for v in rec[:, t]) for t in range(rec.shape[1])]
            (folder / f"{split}_{n:03d}.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
