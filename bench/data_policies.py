"""What each window policy keeps of a variable-length data set (PLAID, issue 14 §3).

    .venv/bin/python bench/data_policies.py                # markdown on stdout
    .venv/bin/python bench/data_policies.py --window 300 --window 1000

PLAID (sktime, offline; 1074 current recordings of 11 appliances, 100 to 1344 samples,
the archive's own train/test split) is written as one CSV per recording, then loaded by
``load_dataset`` under every ``data.window.short`` policy. For each: recordings and
windows kept, what was dropped, padded or resampled, and the test accuracy of a
RandomForest (100 trees, seed 0) on the raw window (a plain reference, not mcuforge's
search) over the test recordings that are kept; ``all`` scores every test recording,
counting a dropped one as wrong.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

POLICIES = (
    ("auto", "{short: auto}"),
    ("drop", "{short: drop}"),
    ("pad (edge)", "{short: pad}"),
    ("pad (0)", "{short: pad, pad_with: 0}"),
    ("whole (resample)", "{short: whole}"),
    ("whole (pad or cut)", "{short: whole, fit: pad, pad_with: 0}"),
)


def export(root: Path) -> tuple[int, int]:
    """PLAID as data/<class>/{train,test}_NNNN.csv, without the test recordings that are
    copies of training recordings (the data check's leakage error); returns the number
    of recordings written and of copies left out."""
    from sktime.datasets import load_plaid

    n, copies = 0, 0
    seen: set[bytes] = set()
    for split in ("train", "test"):
        x, y = load_plaid(split=split, return_type="nested_univ")
        for i, (series, label) in enumerate(zip(x.iloc[:, 0], y, strict=True)):
            values = np.asarray(series, dtype=np.float64)
            key = np.asarray(values, dtype=np.float32).tobytes()
            if split == "test" and key in seen:
                copies += 1
                continue
            seen.add(key)
            folder = root / "data" / f"appliance_{int(label):02d}"
            folder.mkdir(parents=True, exist_ok=True)
            text = "current\n" + "\n".join(f"{v:.6g}" for v in values) + "\n"
            (folder / f"{split}_{i:04d}.csv").write_text(text)
            n += 1
    return n, copies


def spec_text(window: int, policy: str) -> str:
    inner = policy.strip("{}")
    return textwrap.dedent(f"""\
        version: 1
        name: plaid
        data:
          path: data
          sensors: [{{name: mains, channels: [current], rate_hz: 30000}}]
          window: {{length: {window}, stride: {window}, {inner}}}
          split: {{test_files: ["*/test_*.csv"]}}
          checks: {{max_imbalance: 100, min_recordings: 1}}
        target: nrf52840
        budgets: {{sram_kb: 64, flash_kb: 256}}
        """)


def score(ds: object) -> tuple[float, float]:
    """Accuracy on the kept test recordings, and on every test recording (dropped = wrong)."""
    from sklearn.ensemble import RandomForestClassifier

    train, test = ds.train, ds.test  # type: ignore[attr-defined]
    model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    model.fit(train.x.reshape(len(train.x), -1), train.y)
    pred = model.predict(test.x.reshape(len(test.x), -1))
    votes = {}
    for g in np.unique(test.groups):
        rows = test.groups == g
        votes[g] = np.bincount(pred[rows]).argmax() == test.y[rows][0]
    right = sum(votes.values())
    total_test = sum(c.test_recordings for c in ds.summary.classes)  # type: ignore[attr-defined]
    dropped = [  # dropped test recordings were never split: count them as wrong
        f
        for f in ds.findings  # type: ignore[attr-defined]
        if f.check == "too_short" and f.message.endswith("dropped") and "/test_" in str(f.file)
    ]
    all_test = total_test + len(dropped)
    return right / max(len(votes), 1), right / max(all_test, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window", type=int, action="append", help="window length(s), samples")
    args = ap.parse_args()
    windows = args.window or [300, 1000]
    from mcuforge.data import load_dataset
    from mcuforge.errors import DataError
    from mcuforge.spec import load_spec

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        total, copies = export(root)
        print(
            f"PLAID: {total} recordings, archive split, without {copies} test recordings that "
            "are copies of training recordings (the data check stops on them as leakage); "
            "RandomForest(100) on the raw window.\n"
        )
        print(
            "| window | policy | recordings kept | dropped | padded | resampled | cut "
            "| train / test windows | test acc. (kept) | test acc. (all) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for window in windows:
            for name, policy in POLICIES:
                spec = root / "spec.yaml"
                spec.write_text(spec_text(window, policy))
                loaded = load_spec(spec)
                try:
                    ds = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)
                except DataError as exc:
                    first = str(exc).splitlines()[0]
                    reason = first.split("; choose")[0].split(": ", 1)[-1]
                    print(f"| {window} | {name} | error: {reason} | | | | | | | |")
                    continue
                t = ds.summary.totals()  # type: ignore[union-attr]
                kept = t.recordings - t.dropped
                acc_kept, acc_all = score(ds)
                print(
                    f"| {window} | {name} | {kept}/{t.recordings} | {t.dropped} | {t.padded} "
                    f"| {t.resampled} | {t.truncated} | {t.train_windows} / {t.test_windows} "
                    f"| {acc_kept:.3f} | {acc_all:.3f} |"
                )
                sys.stdout.flush()


if __name__ == "__main__":
    main()
