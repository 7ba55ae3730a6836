"""Peak memory of loading a large CSV data set (issue 16: CSV read in chunks).

    .venv/bin/python bench/data_memory.py                 # 125 MB of CSV, markdown on stdout
    .venv/bin/python bench/data_memory.py --mb 20         # a smaller file
    PYTHONPATH=OTHER/generator .venv/bin/python bench/data_memory.py   # another checkout

Writes two recordings (two classes) of 6 channels into a temporary folder, one of
them ``--mb`` MB, then loads them with ``load_dataset`` in a fresh process and reports
the peak resident set size (``ru_maxrss``) against the RSS after importing mcuforge
and against the size of the windowed data (float32 windows of both splits).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")

_CHILD = """
import json, resource, sys, time
from pathlib import Path
import mcuforge
from mcuforge.data import load_dataset
from mcuforge.spec import load_spec
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
base = rss_mb()
loaded = load_spec(Path(sys.argv[1]))
t = time.perf_counter()
ds = load_dataset(loaded.spec.data, loaded.base_dir)
took = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
windows = (ds.train.x.nbytes + ds.test.x.nbytes) / 2**20
print(json.dumps({"base_mb": base, "peak_mb": peak, "windows_mb": windows, "s": took,
                  "n": len(ds.train.x) + len(ds.test.x), "mcuforge": mcuforge.__file__}))
"""


def write_data(root: Path, mb: float) -> Path:
    """Two class folders: one large recording and a small one each, in ``root``."""
    rng = np.random.default_rng(0)
    for cls, size in (("big", mb), ("small", 0.5)):
        folder = root / "data" / cls
        folder.mkdir(parents=True)
        for name in ("a", "test_a"):
            with (folder / f"{name}.csv").open("w") as f:
                f.write(",".join(CHANNELS) + "\n")
                written = 0
                while written < size * 2**20 / 2:
                    block = rng.normal(0, 1, (20000, len(CHANNELS)))
                    text = "\n".join(",".join(f"{v:.6f}" for v in row) for row in block) + "\n"
                    f.write(text)
                    written += len(text)
    spec = root / "spec.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: big
        data:
          path: data
          sensors: [{{name: imu, channels: [{", ".join(CHANNELS)}], rate_hz: 100}}]
          window: {{length: 100, stride: 100}}
          split: {{test_files: ["*/test_*.csv"]}}
        target: nrf52840
        budgets: {{sram_kb: 16, flash_kb: 64}}
        """)
    )
    return spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=125.0, help="size of the large class, MB")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        spec = write_data(Path(tmp), args.mb)
        wrote = time.perf_counter() - t
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*.csv")) / 2**20
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(spec)], capture_output=True, text=True, check=True
        )
    r = json.loads(out.stdout)
    over = r["peak_mb"] - r["base_mb"]
    print(
        "| CSV | windows (float32) | RSS after import | peak RSS | peak - import | ratio | load |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {size:.0f} MB | {r['windows_mb']:.0f} MB ({r['n']} windows) | {r['base_mb']:.0f} MB "
        f"| {r['peak_mb']:.0f} MB | {over:.0f} MB | {over / r['windows_mb']:.2f}x windows "
        f"| {r['s']:.1f} s |"
    )
    print(f"\n(mcuforge from {r['mcuforge']}; data written in {wrote:.0f} s)")


if __name__ == "__main__":
    main()
