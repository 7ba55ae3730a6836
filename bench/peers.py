"""Classic-ML C from mcuforge vs emlearn and m2cgen, on the same trained sklearn models.

Every model is fitted once with scikit-learn on the BasicMotions statistics features
(the bundled example's archive split: 40 train / 40 test windows, 30 features from
:mod:`mcuforge.features` ``stats``; ``+ standardize`` for the logistic regression and
the MLP, as mcuforge's recipes for those families do). The same fitted estimator is
then turned into C three ways:

* **mcuforge**: our deployed form built from the estimator (``TreeEnsemble.from_sklearn``
  for trees and forests, the summed-leaf ``TreeSum`` for boosting, ``LinearModel``,
  ``GaussianBayes``; for the MLP, the sklearn weights copied into a Keras network and
  quantised to full int8 by :func:`mcuforge.compress.int8.quantize_int8`, because
  mcuforge deploys networks only as int8: that row compares our int8 with their float),
  emitted by ``DeployedModel.emit_c`` with the families' defaults (forests: soft voting,
  the probability average sklearn uses; inline layout). Tree models also as
  ``mcuforge-fast`` (forests with majority voting: the fastest setting),
  ``mcuforge-table`` (the node-table layout: the smallest) and ``mcuforge-int16`` (int16
  thresholds, the ``tree_int16`` compression);
* **emlearn** 0.23: ``emlearn.convert(model, method="inline", dtype="float")``, its
  defaults otherwise (majority voting for forests); ``dtype="float"`` because its
  default ``int16_t`` features truncate these float features (it expects the caller to
  scale them to integers); also as ``emlearn-soft`` with ``leaf_bits=8`` (soft voting, as
  sklearn). Its MLP and naive Bayes only exist in the "loadable" form (a generic runtime
  from the emlearn headers);
* **m2cgen** 0.10: ``m2cgen.export_to_c(model)`` (double-precision code).

Every row prints the exact configuration that produced it.

Each C model is compiled with arm-none-eabi-gcc (``-Os``, ``--specs=nano.specs
--specs=nosys.specs -Wl,--gc-sections``, the core flags of ``recipes/cores.yaml``) into
a tiny program that calls it on one feature vector, and into the same program without
the call: flash (.text + .rodata + .data) and static SRAM (.data + .bss) are the
differences. The program with the call then runs in unicorn
(:class:`mcuforge.hardware.emulate.Emulator`) on every test window: instructions per
inference (mean and worst) and the stack high-water mark. Parity: the C compiled for
the host with gcc, and the emulated target build, against ``estimator.predict`` on the
40 test windows.

    .venv/bin/python bench/peers.py [--models dt rf10 ...] [--cores cortex-m4f ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.catalog import Core, load_catalog
from mcuforge.data import load_dataset
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.hardware.cross import elf_sizes
from mcuforge.hardware.emulate import Emulator, unicorn_cpu
from mcuforge.models import DeployedModel
from mcuforge.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "basicmotions" / "spec.yaml"
CORES = ("cortex-m4f", "cortex-m0plus")
IMPLS = (
    "mcuforge",
    "mcuforge-fast",
    "mcuforge-table",
    "mcuforge-int16",
    "emlearn",
    "emlearn-soft",
    "m2cgen",
)
#: Tree models: also the table layout and int16 thresholds (the ``tree_int16``
#: compression): the same trees.
TREE_CASES = ("dt", "rf10", "rf50", "gbt")
FORESTS = ("rf10", "rf50")
#: (ours, peer) pairs of the ratio table.
PAIRS = (
    ("mcuforge", "emlearn"),
    ("mcuforge-fast", "emlearn"),
    ("mcuforge-table", "emlearn"),
    ("mcuforge-int16", "emlearn"),
    ("mcuforge", "emlearn-soft"),
    ("mcuforge", "m2cgen"),
)
#: Same for every implementation: no -Werror (the peers' code has warnings we don't fix).
CFLAGS = [
    "-std=c99",
    "-Os",
    "-ffp-contract=off",
    "-fno-math-errno",
    "-ffunction-sections",
    "-fdata-sections",
]
LINK = ["--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections"]
#: Goals (ours / theirs): issue 17 against emlearn's defaults, issue 11 against emlearn
#: with soft voting and against m2cgen.
GOALS = {
    ("flash", "emlearn"): 0.8,
    ("instructions", "emlearn"): 1.0,
    ("flash", "emlearn-soft"): 0.8,
    ("instructions", "emlearn-soft"): 0.8,
    ("flash", "m2cgen"): 0.5,
}
SEED = 0
#: numpy's error state before emlearn is imported (its import sets all="raise").
_NP_ERR = np.geterr()


@dataclass(frozen=True)
class Data:
    x_train: np.ndarray  # float32 (n, features)
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


@dataclass(frozen=True)
class Case:
    """One model kind: how to fit it, its label, whether it takes standardised features."""

    name: str
    label: str
    standardize: bool
    fit: Callable[[Data], Any]


@dataclass(frozen=True)
class CModel:
    """One implementation's C for one model, and how the harness calls it."""

    impl: str
    code: str
    input_type: str  # "float" | "double"
    call: str  # C statements of ``int bench_predict(const T *x)``'s body
    include_dirs: tuple[Path, ...] = ()
    note: str = ""
    config: str = ""


@dataclass(frozen=True)
class Measured:
    impl: str
    config: str
    flash: int
    static_sram: int
    stack: int
    instr_mean: float
    instr_max: int
    host_agree: int
    target_agree: int
    total: int
    note: str


def _fit_dt(d: Data) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=SEED).fit(d.x_train, d.y_train)


def _forest(n: int) -> Callable[[Data], Any]:
    def fit(d: Data) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=n, random_state=SEED, n_jobs=1).fit(
            d.x_train, d.y_train
        )

    return fit


def _fit_gbt(d: Data) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    gbc = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=SEED)
    return gbc.fit(d.x_train, d.y_train)


def _fit_lr(d: Data) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, random_state=SEED).fit(d.x_train, d.y_train)


def _fit_mlp(d: Data) -> Any:
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=(32, 32), max_iter=1000, random_state=SEED)
    return mlp.fit(d.x_train, d.y_train)


def _fit_gnb(d: Data) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB().fit(d.x_train, d.y_train)


CASES = {
    c.name: c
    for c in (
        Case("dt", "decision tree", False, _fit_dt),
        Case("rf10", "random forest, 10 trees", False, _forest(10)),
        Case("rf50", "random forest, 50 trees", False, _forest(50)),
        Case("gbt", "gradient-boosted trees, 20 x 4", False, _fit_gbt),
        Case("lr", "logistic regression", True, _fit_lr),
        Case("mlp", "MLP 30-32-32-4", True, _fit_mlp),
        Case("gnb", "Gaussian naive Bayes", False, _fit_gnb),
    )
}


def load_data(standardize: bool) -> Data:
    """BasicMotions (the bundled example) as stats features, optionally standardised."""
    loaded = load_spec(EXAMPLE)
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    blocks = [FEATURES.get("stats")({}, ds.window, ds.channels, ds.rate_hz)]
    if standardize:
        blocks.append(FEATURES.get("standardize")({}, ds.window, ds.channels, ds.rate_hz))
    pipe = FeaturePipeline(blocks).fit(ds.train.x, ds.train.y)
    return Data(
        pipe.transform(ds.train.x).astype(np.float32),
        np.asarray(ds.train.y),
        pipe.transform(ds.test.x).astype(np.float32),
        np.asarray(ds.test.y),
        len(ds.classes),
    )


# --- our deployed form, from the fitted estimator -------------------------------------


@dataclass(frozen=True)
class Setting:
    """How one mcuforge row deploys a tree model."""

    mode: str = "float"  # thresholds
    voting: str = "soft"  # forests
    layout: str = "inline"


#: Our rows of the tree models and their settings.
SETTINGS = {
    "mcuforge": Setting(),
    "mcuforge-fast": Setting(voting="hard"),
    "mcuforge-table": Setting(layout="table"),
    "mcuforge-int16": Setting(mode="int16"),
}


def ours(case: str, est: Any, d: Data, setting: Setting = Setting()) -> DeployedModel:
    """mcuforge's deployed form of the fitted sklearn estimator ``est``."""
    k, n_classes = d.x_train.shape[1], d.n_classes
    mode = setting.mode
    if case == "dt":
        from mcuforge.models.trees import TreeEnsemble

        return TreeEnsemble.from_sklearn(
            [(est, est.classes_)], n_classes, k, "hard", mode, d.x_train, setting.layout
        )
    if case in FORESTS:
        from mcuforge.models.trees import TreeEnsemble

        trees = [(t, est.classes_[t.classes_.astype(int)]) for t in est.estimators_]
        return TreeEnsemble.from_sklearn(
            trees, n_classes, k, setting.voting, mode, d.x_train, setting.layout
        )
    if case == "gbt":
        from mcuforge.models.tree_sums import build_tree_sum

        # as GradientBoostingFamily: sklearn's prior (symmetric logit), then the stages
        prior = np.bincount(d.y_train, minlength=n_classes) / len(d.y_train)
        init = np.log(prior) - np.log(prior).mean()
        trees, outs, values = [], [], []
        for stage in est.estimators_:
            for c in range(n_classes):
                trees.append(stage[c])
                outs.append(c)
                values.append(stage[c].tree_.value[:, 0, 0] * est.learning_rate)
        from mcuforge.models._tree_params import TreeCodeParams

        params = TreeCodeParams(thresholds=mode, layout=setting.layout)
        return build_tree_sum(trees, outs, values, init, False, d.x_train, params, "classification")
    if case == "lr":
        from mcuforge.models.linear import LinearModel

        return LinearModel(est.coef_.astype(np.float32), est.intercept_.astype(np.float32))
    if case == "gnb":
        from mcuforge.models.bayes import GaussianBayes

        var = est.var_
        const = np.log(est.class_prior_) - 0.5 * np.log(2.0 * np.pi * var).sum(axis=1)
        return GaussianBayes(
            const.astype(np.float32), est.theta_.astype(np.float32), (-0.5 / var).astype(np.float32)
        )
    if case == "mlp":
        return _int8_mlp(est, d)
    raise ValueError(f"unknown case {case!r}")


def _int8_mlp(est: Any, d: Data) -> DeployedModel:
    """The sklearn MLP's weights in a Keras network, quantised to full int8."""
    import keras  # type: ignore[import-untyped,unused-ignore]

    from mcuforge.compress.int8 import quantize_int8
    from mcuforge.models.int8 import Int8Model

    inp = keras.Input((d.x_train.shape[1],), name="features")
    x = inp
    layers = []
    for i, w in enumerate(est.coefs_):
        last = i == len(est.coefs_) - 1
        layer = keras.layers.Dense(w.shape[1], activation=None if last else "relu")
        x = layer(x)
        layers.append(layer)
    net = keras.Model(inp, x)
    for layer, w, b in zip(layers, est.coefs_, est.intercepts_, strict=True):
        layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
    return Int8Model(quantize_int8(net, d.x_train, SEED), task="classification")


# --- the three C implementations ---------------------------------------------------------


def _m2cgen_call(fn: str, n_out: int) -> str:
    """m2cgen's ``void fn(double *input, double *output)`` and the argmax of its output."""
    return (
        f"    double out[{n_out}];\n    int c, best = 0;\n    {fn}((double *)x, out);\n"
        f"    for (c = 1; c < {n_out}; ++c) {{ if (out[c] > out[best]) {{ best = c; }} }}\n"
        "    return best;"
    )


def _config(case: str, setting: Setting) -> str:
    if case == "dt":
        return f"thresholds={setting.mode}, layout={setting.layout}"
    if case in FORESTS:
        return f"voting={setting.voting}, thresholds={setting.mode}, layout={setting.layout}"
    if case == "gbt":
        return f"thresholds={setting.mode}, layout={setting.layout}"
    return "defaults"


def _ours_rows(case: str, est: Any, d: Data) -> list[CModel]:
    rows = []
    for impl, setting in SETTINGS.items():
        if case not in TREE_CASES and impl != "mcuforge":
            continue
        if impl == "mcuforge-fast" and case not in FORESTS:
            continue
        model = ours(case, est, d, setting)
        rows.append(
            CModel(
                impl,
                "#include <math.h>\n" + model.emit_c("ours"),
                "float",
                f"    float out[{model.n_outputs}];\n    return ours_infer(x, out);",
                note="int8 (float sklearn weights quantised)" if case == "mlp" else "",
                config=_config(case, setting),
            )
        )
    return rows


def c_models(case: str, est: Any, d: Data) -> list[CModel]:
    """The C of each implementation that supports this model (others are left out)."""
    import emlearn
    import m2cgen

    np.seterr(**_NP_ERR)  # importing emlearn sets numpy.seterr(all="raise")
    k = d.x_train.shape[1]
    out = _ours_rows(case, est, d)
    if case in ("dt", *FORESTS):
        variants: list[tuple[str, dict[str, int]]] = [("emlearn", {})]
        if case != "dt":
            variants.append(("emlearn-soft", {"leaf_bits": 8}))
        for impl, kw in variants:
            em = emlearn.convert(est, method="inline", dtype="float", **kw)
            args = "".join(f", {key}={value}" for key, value in kw.items())
            out.append(
                CModel(
                    impl,
                    em.save(name="em"),
                    "float",
                    f"    return em_predict(x, {k});",
                    config=f'convert(method="inline", dtype="float"{args})',
                )
            )
    elif case in ("mlp", "gnb"):
        # 0.23 generates both as its "loadable" runtime (its inline MLP writer fails)
        method = "loadable" if case == "gnb" else "inline"
        em = emlearn.convert(est, method=method)
        out.append(
            CModel(
                "emlearn",
                em.save(name="em"),
                "float",
                f"    return em_predict(x, {k});",
                (Path(emlearn.includedir),),
                "loadable runtime" + (", Q16 fixed point" if case == "gnb" else ", float"),
                config=f'convert(method="{method}")',
            )
        )
    if case in ("dt", *FORESTS, "lr"):
        code = m2cgen.export_to_c(est, function_name="m2_score")
        out.append(
            CModel(
                "m2cgen",
                code,
                "double",
                _m2cgen_call("m2_score", d.n_classes),
                note="double",
                config='export_to_c(function_name="m2_score")',
            )
        )
    np.seterr(**_NP_ERR)
    return out


def _literal(v: float, ctype: str) -> str:
    return repr(float(v)) + ("f" if ctype == "float" else "")


def _write_program(m: CModel, d: Path, n: int) -> None:
    t = m.input_type
    (d / "model.c").write_text(
        "#include <stdint.h>\n#include <string.h>\n"
        + m.code
        + f"\n\nint bench_predict(const {t} *x);\nint bench_predict(const {t} *x)\n{{\n"
        + m.call
        + "\n}\n"
    )
    for tag, body in (
        ("with", "bench_sink = bench_predict(bench_x);"),
        ("without", "bench_sink = ((const volatile unsigned char *)bench_x)[0];"),
    ):
        (d / f"main_{tag}.c").write_text(
            f"{t} bench_x[{n}];\nvolatile int bench_sink;\nint bench_predict(const {t} *x);\n"
            f"int main(void)\n{{\n    {body}\n    return 0;\n}}\n"
        )


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


def host_predictions(m: CModel, d: Path, x: np.ndarray) -> list[int]:
    """Compile the model with the host gcc and predict every row of ``x``."""
    t = m.input_type
    rows = ",\n".join("{" + ", ".join(_literal(v, t) for v in row) + "}" for row in x)
    (d / "host_main.c").write_text(
        f"#include <stdio.h>\nint bench_predict(const {t} *x);\n"
        f"static const {t} rows[{len(x)}][{x.shape[1]}] = {{\n{rows}\n}};\n"
        "int main(void)\n{\n    int i;\n"
        f'    for (i = 0; i < {len(x)}; ++i) {{ printf("%d\\n", bench_predict(rows[i])); }}\n'
        "    return 0;\n}\n"
    )
    inc = [f"-I{p}" for p in m.include_dirs]
    exe = d / "host"
    _run(["gcc", *CFLAGS, *inc, str(d / "model.c"), str(d / "host_main.c"), "-o", str(exe), "-lm"])
    return [int(s) for s in _run([str(exe)]).split()]


def measure(m: CModel, d: Path, core: Core, x: np.ndarray, expected: np.ndarray) -> Measured:
    """Cross sizes, emulated instructions and stack, host and target parity."""
    d.mkdir(parents=True, exist_ok=True)
    _write_program(m, d, x.shape[1])
    flags = core.gcc_flags
    assert flags is not None
    inc = [f"-I{p}" for p in m.include_dirs]
    elfs = {}
    for tag in ("with", "without"):
        srcs = [d / f"main_{tag}.c", *([d / "model.c"] if tag == "with" else [])]
        elf = d / f"{tag}.elf"
        cmd = ["arm-none-eabi-gcc", *flags.split(), *CFLAGS, *inc, *map(str, srcs), *LINK]
        _run([*cmd, "-o", str(elf), "-lm"])
        elfs[tag] = elf_sizes(elf)
    w, wo = elfs["with"], elfs["without"]
    cpu = unicorn_cpu(core)
    assert cpu is not None
    emu = Emulator(d / "with.elf", cpu)
    addr, _ = emu.symbol("bench_x")
    dtype = np.float32 if m.input_type == "float" else np.float64
    returned, instr, stack = [], [], 0
    for row in x:
        emu.uc.mem_write(addr, row.astype(dtype).tobytes())
        call = emu.call("bench_predict", (addr,))
        returned.append(call.returned)
        instr.append(call.instructions)
        stack = max(stack, call.stack_bytes)
    host = host_predictions(m, d, x)
    return Measured(
        m.impl,
        m.config,
        max(w.flash - wo.flash, 0),
        max(w.static_sram - wo.static_sram, 0),
        stack,
        float(np.mean(instr)),
        int(max(instr)),
        int(np.sum(np.asarray(host) == expected)),
        int(np.sum(np.asarray(returned) == expected)),
        len(expected),
        m.note,
    )


# --- report ------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b > 0 else "—"


def _mark(value: float, goal: float | None) -> str:
    if goal is None:
        return ""
    return " ✓" if value <= goal else " ✗"


def markdown(
    results: dict[str, dict[str, dict[str, Measured]]],
    accuracy: dict[str, float],
    command: str,
    seconds: float,
) -> str:
    """results[core][case][impl]."""
    lines = [
        "## Classic-ML C vs emlearn and m2cgen",
        "",
        f"Command: `{command}` ({seconds:.0f} s).",
        "",
        "Same fitted scikit-learn model in each row (BasicMotions stats features, 40 train /"
        " 40 test windows; lr and mlp on standardised features). Flash and static SRAM:"
        " what the model adds to a tiny program (arm-none-eabi-gcc -Os, nano specs,"
        " gc-sections). Instructions (mean / worst over the 40 test windows) and stack:"
        " one inference emulated in unicorn. Parity: predictions equal to"
        " `estimator.predict` on the 40 test windows, C built for the host (gcc) / for"
        " the core (emulated). — : the tool has no converter for this model.",
        "",
    ]
    ratio_rows: list[str] = []
    for core, per_case in results.items():
        lines += [
            f"### {core}",
            "",
            "| model | sklearn acc | impl | flash B | static SRAM B | stack B"
            " | instructions mean | worst | parity host | parity target | config | note |",
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for case, per_impl in per_case.items():
            label = f"{case} ({CASES[case].label})"
            for impl in IMPLS:
                r = per_impl.get(impl)
                if r is None and impl in ("emlearn", "m2cgen"):
                    lines.append(
                        f"| {label} | {accuracy[case]:.3f} | {impl} | — | — | — | — | — | — | — |"
                        " — | not supported |"
                    )
                if r is None:
                    continue
                lines.append(
                    f"| {label} | {accuracy[case]:.3f} | {impl} | {r.flash} | {r.static_sram} | "
                    f"{r.stack} | {r.instr_mean:.0f} | {r.instr_max} | "
                    f"{r.host_agree}/{r.total} | {r.target_agree}/{r.total} | `{r.config}` | "
                    f"{r.note} |"
                )
            ratio_rows += _ratio_rows(core, case, per_impl)
        lines.append("")
    lines += [
        "### Ratios mcuforge / peer",
        "",
        "Goals (✓ met, ✗ missed): against emlearn's defaults (majority voting; issue 17)"
        " flash ≤ 0.8 x and instructions ≤ 1.0 x; against emlearn with soft voting"
        " (`leaf_bits=8`; issue 11) flash ≤ 0.8 x and instructions ≤ 0.8 x; against m2cgen"
        " flash ≤ 0.5 x. SRAM = static + stack. `mcuforge` is the families' default"
        " (forests: soft voting, as sklearn), `mcuforge-fast` the fastest setting"
        " (majority voting, as emlearn's default), `mcuforge-table` the smallest layout,"
        " `mcuforge-int16` int16 thresholds; their parity columns say whether they still"
        " agree with sklearn.",
        "",
        "| core | model | ours | peer | flash | instructions | SRAM |",
        "| --- | --- | --- | --- | ---: | ---: | ---: |",
        *ratio_rows,
        "",
    ]
    return "\n".join(lines)


def _ratio_rows(core: str, case: str, per_impl: dict[str, Measured]) -> list[str]:
    rows = []
    for mine, peer in PAIRS:
        o, t = per_impl.get(mine), per_impl.get(peer)
        if o is None or t is None:
            continue
        fg = GOALS.get(("flash", peer))
        ig = GOALS.get(("instructions", peer))
        fr = o.flash / t.flash if t.flash else float("nan")
        ir = o.instr_mean / t.instr_mean if t.instr_mean else float("nan")
        sr = (o.static_sram + o.stack) / max(t.static_sram + t.stack, 1)
        flash = _ratio(o.flash, t.flash) + _mark(fr, fg)
        instr = _ratio(o.instr_mean, t.instr_mean) + _mark(ir, ig)
        rows.append(f"| {core} | {case} | {mine} | {peer} | {flash} | {instr} | {sr:.3f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--cores", nargs="+", default=list(CORES), choices=list(CORES))
    args = ap.parse_args(argv)
    for tool in ("arm-none-eabi-gcc", "gcc"):
        if shutil.which(tool) is None:
            print(f"{tool} not found", file=sys.stderr)
            return 1
    t0 = time.perf_counter()
    catalog = load_catalog()
    data = {s: load_data(s) for s in {CASES[c].standardize for c in args.models}}
    results: dict[str, dict[str, dict[str, Measured]]] = {c: {} for c in args.cores}
    accuracy: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mcuforge-peers-") as tmp:
        for case in args.models:
            d = data[CASES[case].standardize]
            est = CASES[case].fit(d)
            expected = np.asarray(est.predict(d.x_test))
            accuracy[case] = float(np.mean(expected == d.y_test))
            models = c_models(case, est, d)
            for core in args.cores:
                spec = catalog.core(core)
                results[core][case] = {
                    m.impl: measure(m, Path(tmp) / core / case / m.impl, spec, d.x_test, expected)
                    for m in models
                }
            print(f"peers: {case} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    argv_s = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python bench/peers.py", *argv_s])
    print(markdown(results, accuracy, command, time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
