"""Feature blocks: C against the Python reference on real data, references against peers.

IMU blocks run on the bundled BasicMotions example; audio blocks on spoken keywords
synthesised at test time with espeak-ng (varied voice, pitch and speed, seeded
noise). Every block claims bit-exact C (``tolerance == 0.0``), checked on the float
bits; the references are checked against numpy/scipy/scikit-learn/librosa within the
tolerances stated next to each assertion. Each parity test prints the max absolute
and relative error it measured (``pytest -s`` shows them).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcuforge.catalog import load_catalog
from mcuforge.data import Dataset, load_dataset
from mcuforge.errors import McuforgeError
from mcuforge.features import FEATURES, CoreCosts, FeatureBlock, FeaturePipeline
from mcuforge.features._fft import RealFFT, ln_f32
from mcuforge.features._params import FeatureParamError
from mcuforge.features.spectral import Q15_TOLERANCE, SpectralBlock
from mcuforge.features.stats import ALL_STATS, STATS
from mcuforge.spec import load_spec
from mcuforge.testing._features_c import run_features_c

from .conftest import EXAMPLE

M4F = CoreCosts(float_op=1, float_div=14)
M0P = CoreCosts(float_op=45, float_div=160)
AUDIO_RATE = 16000


@pytest.fixture(scope="module")
def ds() -> Dataset:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    return load_dataset(loaded.spec.data, loaded.base_dir)


@pytest.fixture(scope="module")
def windows(ds: Dataset) -> np.ndarray:
    return np.concatenate([ds.train.x, ds.test.x])


def _block(name: str, params: dict[str, Any], ds: Dataset) -> FeatureBlock:
    return FEATURES.get(name)(params, ds.window, ds.channels, ds.rate_hz)


def _assert_bit_exact(label: str, c: np.ndarray, ref: np.ndarray) -> None:
    """Same float32 bits; prints the max absolute and relative error either way."""
    err = np.abs(c.astype(np.float64) - ref.astype(np.float64))
    rel = err / (1.0 + np.abs(ref.astype(np.float64)))
    print(f"{label}: max abs err {err.max():.3g}, max rel err {rel.max():.3g}")
    assert c.shape == ref.shape
    assert np.array_equal(c.view(np.uint32), ref.view(np.uint32)), label


IMU_CASES: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
    ("stats-all", [("stats", {"features": list(ALL_STATS)})]),
    ("stats-int16", [("stats", {"numeric": "int16"})]),
    ("stats-int16-all", [("stats", {"features": list(ALL_STATS), "numeric": "int16"})]),
    ("stats-int16-zcr-min", [("stats", {"features": ["min", "zcr"], "numeric": "int16"})]),
    ("stats-skew-mcr", [("stats", {"features": ["skew", "mcr"]})]),
    ("spectral-default", [("spectral", {})]),
    (
        "spectral-log-hamming",
        [
            (
                "spectral",
                {
                    "fft_size": 32,
                    "bands": 6,
                    "band_scale": "log",
                    "band_spacing": "log",
                    "window": "hamming",
                    "hop": 8,
                },
            )
        ],
    ),
    (
        "spectral-iir",
        [
            (
                "spectral",
                {
                    "fft_size": 16,
                    "window": "none",
                    "remove_mean": False,
                    "filter": {"kind": "highpass", "order": 3, "cutoff_hz": 0.5},
                },
            )
        ],
    ),
    ("spectral-q15", [("spectral", {"numeric": "q15", "band_scale": "log"})]),
    (
        "spectral-q15-bandpass",
        [
            (
                "spectral",
                {
                    "numeric": "q15",
                    "fft_size": 32,
                    "features": ["bands", "centroid"],
                    "filter": {"kind": "bandpass", "order": 2, "cutoff_hz": [0.5, 3.0]},
                },
            )
        ],
    ),
    ("raw-decimate-normalize", [("raw", {"decimate": 3, "normalize": True})]),
    (
        "stats+standardize+pca",
        [
            ("stats", {"features": ["mean", "std", "ptp", "kurtosis"]}),
            ("standardize", {}),
            ("pca", {"n_components": 5}),
        ],
    ),
    ("stats+spectral+lda", [("stats", {}), ("spectral", {"bands": 4}), ("lda", {})]),
]


@pytest.mark.parametrize(("label", "blocks"), IMU_CASES, ids=[c[0] for c in IMU_CASES])
def test_imu_blocks_are_bit_exact_in_c(
    ds: Dataset, windows: np.ndarray, label: str, blocks: list[tuple[str, dict[str, Any]]]
) -> None:
    pipe = FeaturePipeline([_block(n, p, ds) for n, p in blocks]).fit(ds.train.x, ds.train.y)
    assert pipe.tolerance == 0.0
    _assert_bit_exact(label, run_features_c(pipe, windows), pipe.transform(windows))


def test_default_stats_are_the_original_five(ds: Dataset) -> None:
    block = _block("stats", {}, ds)
    assert block.feature_names[:5] == [f"{ds.channels[0]}.{s}" for s in STATS]
    reordered = _block("stats", {"features": ["mcr", "mean", "skew"]}, ds)
    assert reordered.feature_names[:3] == [f"{ds.channels[0]}.{s}" for s in ("mean", "skew", "mcr")]


def test_higher_stats_match_scipy(ds: Dataset) -> None:
    from scipy import stats as sps  # type: ignore[import-untyped]

    x = ds.test.x
    f = _block("stats", {"features": list(ALL_STATS)}, ds).transform(x)
    f = f.reshape(len(x), len(ds.channels), len(ALL_STATS))
    x64 = x.astype(np.float64)
    col = {s: f[..., i] for i, s in enumerate(ALL_STATS)}
    signs = x64 >= 0
    zcr = (signs[:, 1:] != signs[:, :-1]).mean(axis=1)
    above = x64 >= x64.mean(axis=1, keepdims=True)
    mcr = (above[:, 1:] != above[:, :-1]).mean(axis=1)
    # float32 sequential moments of 100 samples: ~1e-6 relative, amplified by the
    # normalisation of the 3rd/4th moments (|kurtosis| up to ~60 here)
    np.testing.assert_allclose(col["skew"], sps.skew(x64, axis=1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(col["kurtosis"], sps.kurtosis(x64, axis=1), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(col["ptp"], np.ptp(x64, axis=1), rtol=1e-6, atol=1e-6)
    # crossings: exact counts, except where a sample sits within float32 rounding of the
    # mean (one pair in a window: 1/99)
    assert np.array_equal(col["zcr"], zcr.astype(np.float32))
    assert np.abs(col["mcr"] - mcr).max() <= 1.0 / 99 + 1e-7


def test_constant_signals_never_divide_by_zero(ds: Dataset) -> None:
    x = np.full((2, ds.window, len(ds.channels)), 0.7, dtype=np.float32)
    x[1] = 0.0
    cases: list[tuple[str, dict[str, Any]]] = [
        ("stats", {"features": list(ALL_STATS)}),
        ("stats", {"features": list(ALL_STATS), "numeric": "int16"}),
        ("spectral", {"band_scale": "log"}),
        ("spectral", {"numeric": "q15", "band_scale": "log"}),
        ("raw", {"normalize": True}),
    ]
    for name, params in cases:
        block = _block(name, params, ds)
        pipe = FeaturePipeline([block]).fit(x, np.array([0, 1]))
        ref = pipe.transform(x)
        assert np.isfinite(ref).all(), (name, params)
        _assert_bit_exact(f"{name} on constant windows", run_features_c(pipe, x), ref)


def test_int16_stats_are_bit_exact_on_awkward_windows(ds: Dataset) -> None:
    """Zeros of both signs, subnormals, a channel below 2^-112 (read as zeros), one huge
    outlier, infinities and NaN: the integer C and its reference agree bit for bit."""
    x = np.repeat(ds.test.x[:1], 7, axis=0).copy()
    x[0, :, 0] = 0.0
    x[0, ::2, 1] = -0.0
    x[1, ::3, 2] = 1e-40
    x[2, :, 3] = 1e-36
    x[3, 17, 4] = -3e38
    x[4, 5, 5] = np.inf
    x[5, 9, 0] = -np.inf
    x[6, 50, 1] = np.nan
    block = _block("stats", {"features": list(ALL_STATS), "numeric": "int16"}, ds)
    pipe = FeaturePipeline([block])
    with np.errstate(all="ignore"):
        ref = pipe.transform(x)
    _assert_bit_exact("int16 stats, awkward windows", run_features_c(pipe, x), ref)
    f = ref.reshape(len(x), len(ds.channels), len(ALL_STATS))
    assert (f[2, 3] == 0).all()  # peak below 2^-112: zeros


def test_int16_stats_follow_the_float_ones(ds: Dataset, windows: np.ndarray) -> None:
    stats = list(ALL_STATS)
    f = _block("stats", {"features": stats}, ds).transform(windows)
    q = _block("stats", {"features": stats, "numeric": "int16"}, ds).transform(windows)
    shape = (len(windows), len(ds.channels), len(stats))
    f, q = f.reshape(shape), q.reshape(shape)
    peak = np.abs(windows).max(axis=1)  # (n, ch)
    col = {s: i for i, s in enumerate(stats)}
    for s in ("mean", "std", "min", "max", "rms", "ptp"):
        err = np.abs(q[..., col[s]] - f[..., col[s]]) / peak
        print(f"int16 {s}: max error {err.max():.3g} of the channel's peak")
        # a step is 2^-14 of the power of two above the peak (at most 2^-13 of the
        # peak); each sample is within half a step, min/max/mean/std/rms stay within
        # that, ptp (two of them) within one step
        assert err.max() <= 2.0**-13
    # sign changes: only samples that round to 0 (within 2^-15 of the peak) may differ
    assert np.abs(q[..., col["zcr"]] - f[..., col["zcr"]]).max() <= 2 / 99 + 1e-6
    assert np.abs(q[..., col["mcr"]] - f[..., col["mcr"]]).max() <= 2 / 99 + 1e-6
    # the moments use 10-bit deviations: skew and kurtosis to a few percent of their scale
    for s in ("skew", "kurtosis"):
        err = np.abs(q[..., col[s]] - f[..., col[s]]) / (1 + np.abs(f[..., col[s]]))
        print(f"int16 {s}: max error {err.max():.3g}")
        assert err.max() <= 0.1


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="no cross compiler")
def test_int16_stats_on_the_emulated_cortex_m0plus(ds: Dataset, tmp_path: Path) -> None:
    """The integer statistics cross-compiled for the Cortex-M0+ and run in unicorn
    (soft-float libgcc for the few float operations) equal the reference bit for bit."""
    from mcuforge.emit import Provenance, emit_model
    from mcuforge.hardware.cross import cross_build
    from mcuforge.hardware.emulate import OUTPUT_PAGE, Emulator, unicorn_installed
    from mcuforge.models import MODELS

    if not unicorn_installed():
        pytest.skip("unicorn not installed")
    block = _block("stats", {"features": list(ALL_STATS), "numeric": "int16"}, ds)
    pipe = FeaturePipeline([block])
    feats = pipe.transform(ds.train.x)
    model = MODELS.get("decision_tree")().fit(feats, ds.train.y, 4, {"max_depth": 2}, 0)
    prov = Provenance("test", "0" * 64, "test@1", 0, "cortex-m0plus")
    sources = emit_model("m", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, prov)
    build = cross_build(sources, "m", "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft", tmp_path)
    emu = Emulator(build.with_model, "CORTEX_M0")
    window, _ = emu.symbol("mcuforge_window")
    x = ds.test.x[:8]
    for row, expected in zip(x, pipe.transform(x), strict=True):
        emu.uc.mem_write(window, row.astype("<f4").tobytes())
        assert emu.call("m_features", (window, OUTPUT_PAGE)).returned == 0
        got = np.frombuffer(bytes(emu.uc.mem_read(OUTPUT_PAGE, 4 * pipe.n_outputs)), "<f4")
        assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_fft_kernel_and_log_against_numpy() -> None:
    rng = np.random.default_rng(0)
    for n in (8, 64, 512):
        x = rng.normal(size=(4, n)).astype(np.float32)
        p = RealFFT(n, "n").power(x)
        ref = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
        # float32 radix-2: error grows ~log2(n) ulps of the largest bin
        assert np.abs(p - ref).max() <= 1e-6 * ref.max()
    v = np.exp(rng.uniform(-40, 40, 20000)).astype(np.float32)
    ref_ln = np.log(v.astype(np.float64))
    # a few float32 ulps of |ln v| (<= 40) plus the float32 rounding of ln 2
    assert np.abs(ln_f32(v) - ref_ln).max() <= 4e-6


def test_spectral_reference_matches_scipy_welch(ds: Dataset) -> None:
    from scipy import signal

    x = ds.test.x
    for n in (16, 64):
        block = SpectralBlock({"fft_size": n, "bands": 8}, ds.window, ds.channels, ds.rate_hz)
        f = block.transform(x).reshape(len(x), len(ds.channels), -1)
        _, p = signal.welch(
            x.transpose(0, 2, 1).astype(np.float64),
            fs=ds.rate_hz,
            window="hann",
            nperseg=n,
            noverlap=n - n // 2,
            detrend="constant",
            scaling="spectrum",
            axis=-1,
        )
        p[..., 1:-1] /= 2  # welch doubles one-sided bins; the block does not
        e: list[int] = block.edges
        bands = np.stack([p[..., lo:hi].sum(-1) for lo, hi in itertools.pairwise(e)], -1)
        total = bands.sum(-1, keepdims=True)
        # float32 FFT of 100 samples vs float64: ~1e-7 of the channel's energy
        assert (np.abs(f[..., :8] - bands) / total).max() <= 1e-5
        k = np.arange(p.shape[-1])
        centroid = (p * k).sum(-1) / p.sum(-1) * ds.rate_hz / n
        np.testing.assert_allclose(f[..., 9], centroid, rtol=1e-5, atol=1e-6)
        dominant = (np.argmax(p[..., 1:], -1) + 1) * ds.rate_hz / n
        assert (f[..., 8] == dominant).mean() >= 0.99  # near-ties only


def test_spectral_q15_agrees_with_float(ds: Dataset, windows: np.ndarray) -> None:
    for n in (16, 32, 64):
        kw = {"fft_size": n, "bands": 8}
        f = _block("spectral", kw, ds).transform(windows).reshape(len(windows), 6, -1)
        q = _block("spectral", {**kw, "numeric": "q15"}, ds).transform(windows)
        q = q.reshape(len(windows), 6, -1)
        total = f[..., :8].sum(-1, keepdims=True)
        band_err = (np.abs(q[..., :8] - f[..., :8]) / total).max()
        centroid_err = np.abs(q[..., 9] - f[..., 9]).max() / (ds.rate_hz / 2)
        print(f"q15 fft_size {n}: band err/total {band_err:.3g}, centroid err {centroid_err:.3g}")
        assert band_err <= Q15_TOLERANCE  # see Q15_TOLERANCE for the reasoning
        assert centroid_err <= Q15_TOLERANCE
        assert (q[..., 8] == f[..., 8]).mean() >= 0.95  # dominant bin: only near-ties differ


def test_iir_filter_matches_scipy_sosfilt(ds: Dataset) -> None:
    from scipy import signal

    from mcuforge.features.filters import FilterParams, design

    x = ds.test.x
    for spec in (
        FilterParams(kind="lowpass", order=4, cutoff_hz=2.0),
        FilterParams(kind="bandpass", order=2, cutoff_hz=[0.5, 3.0]),
    ):
        bq = design(spec, ds.rate_hz, "spectral")
        ref = signal.sosfilt(bq.sos.astype(np.float64), x.astype(np.float64), axis=1)
        # float32 state and coefficients vs float64 over 100 samples of stable poles
        scale = np.abs(x).max()
        assert np.abs(bq.apply(x) - ref).max() <= 1e-4 * scale


def test_projections_match_scikit_learn(ds: Dataset) -> None:
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    stats = _block("stats", {}, ds)
    v_tr, v_te = stats.transform(ds.train.x), stats.transform(ds.test.x)
    pca = _block("pca", {"n_components": 4}, ds)
    pca.fit(v_tr, ds.train.y)
    sk = PCA(n_components=4, svd_solver="full").fit(v_tr.astype(np.float64))
    ref = sk.transform(v_te.astype(np.float64))
    # float32 weights and sums of 30 features: relative to the spread of each component
    assert np.abs(pca.transform(v_te) - ref).max() <= 1e-4 * np.abs(ref).max()
    lda = _block("lda", {"n_components": 10}, ds)  # capped at classes - 1 = 3
    lda.fit(v_tr, ds.train.y)
    assert lda.n_outputs == 3
    skl = LinearDiscriminantAnalysis(solver="svd", n_components=3).fit(v_tr, ds.train.y)
    ref = skl.transform(v_te.astype(np.float64))
    assert np.abs(lda.transform(v_te) - ref).max() <= 1e-3 * np.abs(ref).max()
    std = _block("standardize", {}, ds)
    std.fit(v_tr, ds.train.y)
    z = std.transform(v_tr).astype(np.float64)
    assert np.abs(z.mean(0)).max() < 1e-4 and np.abs(z.std(0)[z.std(0) > 0] - 1).max() < 1e-4


def test_raw_block_shape_decimation_and_normalisation(ds: Dataset) -> None:
    raw = _block("raw", {"decimate": 4, "normalize": True}, ds)
    raw.fit(ds.train.x, ds.train.y)
    assert raw.output_shape == (ds.window // 4, len(ds.channels))
    assert FeaturePipeline([raw]).output_shape == raw.output_shape
    z = raw.transform(ds.train.x).reshape(len(ds.train.x), ds.window // 4, -1)
    assert np.abs(z.mean(axis=(0, 1))).max() < 1e-4  # float32 fold of the float64 fit
    assert np.abs(z.std(axis=(0, 1)) - 1).max() < 1e-4
    plain = _block("raw", {"decimate": 4}, ds).transform(ds.test.x)
    expect = ds.test.x[:, : ds.window // 4 * 4].reshape(len(ds.test.x), -1, 4, 6).mean(2)
    np.testing.assert_allclose(plain.reshape(expect.shape), expect, rtol=1e-6, atol=1e-6)


# -- audio ---------------------------------------------------------------------------

KEYWORDS = [
    ("yes", "en", 50, 160),
    ("no", "en+f3", 75, 130),
    ("stop", "en-us", 30, 190),
    ("go", "en+m3", 60, 150),
]


def _speak(tmp: Path, word: str, voice: str, pitch: int, speed: int, seed: int) -> np.ndarray:
    """One second of 16 kHz audio: espeak-ng, linear resampling, seeded noise."""
    path = tmp / f"{word}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(path), word],
        check=True,
        capture_output=True,
    )
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    t = np.arange(AUDIO_RATE) / AUDIO_RATE
    audio = np.interp(t, np.arange(len(pcm)) / rate, pcm, right=0.0)
    noise = np.random.default_rng(seed).normal(0.0, 0.01, AUDIO_RATE)
    return (audio + noise).astype(np.float32)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is needed in CI (apt-get install -y espeak-ng)")
        pytest.skip("espeak-ng not installed (apt-get install -y espeak-ng) to synthesise speech")
    tmp = tmp_path_factory.mktemp("speech")
    clips = [_speak(tmp, *kw, seed=i) for i, kw in enumerate(KEYWORDS)]
    return np.stack(clips)[:, :, None]


AUDIO_CASES: list[tuple[str, dict[str, Any]]] = [
    ("mfe", {}),
    ("mfe", {"frame_length": 0.032, "frame_stride": 0.016, "n_mels": 32, "top_db": None}),
    ("mfcc", {}),
    ("mfcc", {"n_mfcc": 10, "n_fft": 1024, "fmin": 20.0, "fmax": 7600.0, "top_db": None}),
]


@pytest.mark.parametrize(("name", "params"), AUDIO_CASES)
def test_audio_blocks_are_bit_exact_and_match_librosa(
    speech: np.ndarray, name: str, params: dict[str, Any]
) -> None:
    block = FEATURES.get(name)(params, AUDIO_RATE, ["mic"], AUDIO_RATE)
    pipe = FeaturePipeline([block])
    ref = pipe.transform(speech)
    assert pipe.output_shape == block.output_shape and ref.shape[1] == np.prod(pipe.output_shape)
    _assert_bit_exact(f"{name} {params}", run_features_c(pipe, speech), ref)
    librosa = pytest.importorskip("librosa", reason="librosa (test-only peer) not installed")
    b: Any = block
    s = librosa.feature.melspectrogram(
        y=speech[:, :, 0],
        sr=AUDIO_RATE,
        n_fft=b.n_fft,
        hop_length=b.hop,
        win_length=b.win_len,
        window="hann",
        center=False,
        power=2.0,
        n_mels=b.n_mels,
        fmin=params.get("fmin", 0.0),
        fmax=params.get("fmax"),
        htk=False,
        norm="slaney",
    )
    db = librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=b.top_db)
    if name == "mfcc":
        db = librosa.feature.mfcc(S=db, n_mfcc=b.n_mfcc, dct_type=2, norm="ortho")
    peer = np.transpose(db, (0, 2, 1)).reshape(len(speech), -1)
    err = np.abs(peer - ref).max()
    print(f"{name} vs librosa: max abs err {err:.3g} (dB / cepstral units)")
    # both float32; different FFT (pocketfft) and summation order: ~1e-5 dB measured,
    # MFCC sums 40 such values with weights <= 0.23: 1e-3 leaves a 10x margin
    assert err <= 1e-3


def test_audio_block_errors_name_the_parameter() -> None:
    with pytest.raises(FeatureParamError, match="one audio channel"):
        FEATURES.get("mfcc")({}, AUDIO_RATE, ["l", "r"], AUDIO_RATE)
    with pytest.raises(FeatureParamError, match=r"mfe\.n_fft=1024 is longer than the window"):
        FEATURES.get("mfe")({"n_fft": 1024}, 800, ["mic"], AUDIO_RATE)
    with pytest.raises(FeatureParamError, match="rate_hz"):
        FEATURES.get("mfe")({}, AUDIO_RATE, ["mic"], 0.0)
    with pytest.raises(FeatureParamError, match=r"mfcc\.n_fft must be a power of two"):
        FEATURES.get("mfcc")({"n_fft": 500}, AUDIO_RATE, ["mic"], AUDIO_RATE)


# -- parameters, errors, costs, recipes ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("spectral", {"fft_size": 48}, r"spectral.fft_size must be a power of two"),
        ("spectral", {"fft_size": 128}, r"spectral.fft_size=128 is longer than the window"),
        ("spectral", {"bands": 40, "fft_size": 16}, r"spectral.bands must be in \[1, 8\]"),
        ("spectral", {"filter": {"kind": "lowpass", "cutoff_hz": 7}}, r"Nyquist frequency 5 Hz"),
        ("spectral", {"filter": {"kind": "notch", "cutoff_hz": 1}}, r"spectral.filter.kind"),
        ("spectral", {"numeric": "q7"}, r"spectral.numeric must be one of float32, q15"),
        ("spectral", {"fft": 64}, r"spectral has no parameter 'fft'; its parameters .*fft_size"),
        ("stats", {"features": ["mean", "median"]}, r"unknown: median"),
        ("raw", {"decimate": 0}, r"raw.decimate must be >= 1"),
    ],
)
def test_bad_parameters_are_clear_errors(
    ds: Dataset, name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(McuforgeError, match=message):
        _block(name, params, ds)


def test_spectral_needs_a_rate(ds: Dataset) -> None:
    with pytest.raises(FeatureParamError, match=r"`rate_hz` for every sensor"):
        FEATURES.get("spectral")({}, ds.window, ds.channels, float("nan"))


def test_every_block_is_consistent_and_costs_more_without_fpu(ds: Dataset) -> None:
    for name in ("stats", "raw", "spectral", "minirocket", "standardize", "pca", "lda"):
        block = _block(name, {}, ds)
        if block.input == "vector":
            v = _block("stats", {}, ds).transform(ds.train.x)
            block.fit(v, ds.train.y)
        assert len(block.feature_names) == block.n_outputs == int(np.prod(block.output_shape))
        m4, m0 = block.cost(M4F), block.cost(M0P)
        assert 0 < m4.instructions <= m0.instructions, name
        assert name == "raw" or m4.instructions < m0.instructions  # raw copies: no float op
        assert m4.flash_bytes > 0 and m4.sram_bytes > 0
    q15 = _block("spectral", {"numeric": "q15"}, ds).cost(M0P)
    f32 = _block("spectral", {}, ds).cost(M0P)
    assert q15.instructions < f32.instructions / 2  # the point of fixed point on an M0+


def test_recipes_name_real_blocks_and_parameters(ds: Dataset) -> None:
    """Every new recipe's feature space builds and fits on BasicMotions (or audio)."""
    cat = load_catalog()
    for ref in (
        "imu-spectral-forest",
        "imu-pca-tree",
        "raw-cnn1d",
        "audio-mfcc-dscnn",
        "minirocket-ridge",
        "raw-knn",
    ):
        recipe = cat.recipe(ref)
        audio = "audio" in recipe.applies.modality
        length, chans, rate = (
            (AUDIO_RATE, ["mic"], AUDIO_RATE) if audio else (ds.window, ds.channels, ds.rate_hz)
        )
        for pick in (0, -1):  # the first and the last value of each dimension
            params: dict[str, dict[str, Any]] = {}
            for key, space in recipe.search.space.items():
                block, dot, param = key.partition(".")
                if not dot:
                    continue
                value = (
                    space.smallest()
                    if pick == 0
                    else (
                        space.choice[-1]
                        if space.choice is not None
                        else space.subset
                        if space.subset is not None
                        else space.int_[1]
                        if space.int_ is not None
                        else None
                    )
                )
                params.setdefault(block, {})[param] = value
            blocks = [
                FEATURES.get(n)(params.get(n, {}), length, chans, rate)
                for n in recipe.pipeline.features
            ]
            pipe = FeaturePipeline(blocks)
            if not audio:
                pipe.fit(ds.train.x, ds.train.y)
                assert pipe.transform(ds.test.x).shape == (len(ds.test.x), pipe.n_outputs)
            assert pipe.cost(M4F).instructions > 0
