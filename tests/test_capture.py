"""``mcuforge capture``: the capture frames, the stream reader, the recordings it writes.

* Fast: the STREAM/SAMPLES frames; the reader against fake boards on pyserial's
  ``loop://`` (lost frames, garbage, bad CRCs, restarts, a late join, silence, Ctrl-C);
  the CSV written in each spec layout and read back by the data loader, bit for bit; the
  output safety rules; the link's capacity; the command over a fake board on TCP; the
  firmware's capture runtime compiled and run on the host, its synthetic waveform equal
  to :func:`synth` below.
* ``slow`` + ``toolchain``: the cmake-baremetal firmware built in capture mode (three
  synthetic classes) in QEMU with its UART on TCP, three recordings captured, then
  ``generate`` trains on them; the capture mode also builds for a board.
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import serial
from click.testing import CliRunner

from mcuforge.cli import cli
from mcuforge.data._csv import read_csv
from mcuforge.errors import DataError, OutputError
from mcuforge.hardware.capture import CaptureError, link_check, read_capture
from mcuforge.hardware.protocol import (
    FrameDecoder,
    Hello,
    Samples,
    Stream,
    capture_block,
    crc16_ccitt_false,
    max_rate_hz,
)
from mcuforge.hardware.recordings import (
    check_label,
    check_layout,
    csv_text,
    label_folder,
    write_new,
)
from mcuforge.spec import Data, Task, load_spec

from .conftest import needs_arm_gcc, needs_qemu

FW_ID = bytes.fromhex("c449ce1424a92808")
CLASSES = ["first", "second", "third"]  # the stand-in model's class names
RECIPE = "imu-stats-tree@1"
SPEC = """\
version: 1
name: gesture
data:
  format: csv
  path: data
  sensors:
    - {name: imu, channels: [a, b], unit: g, rate_hz: 10}
  window: {length: 32}
task: {kind: classification, metric: accuracy}
target: nrf52840
budgets: {sram_kb: 16, flash_kb: 64, latency_ms: 20}
search: {trials: 1, seed: 1}
recipe: imu-stats-tree
output: {dir: out, test_windows: 4}
"""


def synth(k: int, n0: int, n: int, channels: int) -> np.ndarray:
    """Samples ``n0 .. n0 + n - 1`` of the firmware's synthetic waveform ``k``
    (mcuforge_synth_read, formula in mcuforge_app.h), float32 (n, channels)."""
    m = 0xFFFFFFFF
    period = 8 * (k + 2)
    out = np.empty((n, channels), np.float32)
    for i in range(n):
        s = n0 + i
        for c in range(channels):
            phase = (s + 3 * c) % period
            tri = min(phase, period - phase)
            h = ((s * channels + c) * 2654435761 + k * 2654435769) & m
            h ^= h >> 16
            h = (h * 0x85EBCA6B) & m
            h ^= h >> 13
            value = (k + 1) * (2 * tri - period // 2) * 16 + (h >> 24) - 128 + 128 * c
            out[i, c] = value / 256
    return out


def stream(next_seq: int = 0, missed: int = 0, **kw: Any) -> bytes:
    fields: dict[str, Any] = {"firmware_id": FW_ID, "n_channels": 2, "block_samples": 3}
    fields |= {"rate_hz": 10.0, "source": 0, "waveform": 0} | kw
    return Stream(next_seq=next_seq, missed=missed, **fields).encode()


def block(seq: int, missed: int = 0, channels: int = 2) -> bytes:
    """SAMPLES frame ``seq``: 3 samples whose values say where they come from."""
    values = [seq * 100 + i + c / 10 for i in range(3) for c in range(channels)]
    return Samples(seq, missed, channels, tuple(values)).encode()


def rows(seqs: list[int]) -> np.ndarray:
    return np.array(
        [[s * 100 + i + c / 10 for c in range(2)] for s in seqs for i in range(3)], np.float32
    )


@pytest.fixture
def loop() -> Iterator[serial.SerialBase]:
    port = serial.serial_for_url("loop://", timeout=0.05)
    yield port
    port.close()


# ------------------------------------------------------------------------------ frames


def test_stream_and_samples_frames_match_the_documented_layout() -> None:
    st = Stream(FW_ID, 6, 10, 50.0, 1, 2, 7, 3)
    frame = st.encode()
    assert frame[:3] == b"\xa5\x5a\x04" and struct.unpack_from("<H", frame, 3)[0] == 26
    assert frame[5:13] == FW_ID
    assert struct.unpack_from("<HHfBBII", frame, 13) == (6, 10, 50.0, 1, 2, 7, 3)
    assert struct.unpack_from("<H", frame, len(frame) - 2)[0] == crc16_ccitt_false(frame[2:-2])
    sa = Samples(5, 1, 2, (0.5, -1.0, 2.25, 3.0))
    frame = sa.encode()
    assert frame[2] == 0x05 and struct.unpack_from("<H", frame, 3)[0] == 12 + 16
    assert struct.unpack_from("<IIHH4f", frame, 5) == (5, 1, 2, 2, 0.5, -1.0, 2.25, 3.0)
    assert FrameDecoder().feed(st.encode() + frame) == [st, sa]
    assert st.source_name == "synthetic waveform 2" and sa.n_samples == 2


def test_decoder_counts_a_resync_each_time_it_loses_the_frame_boundary() -> None:
    dec = FrameDecoder()
    bad = bytearray(block(1))
    bad[9] ^= 0x40
    assert len(dec.feed(b"boot banner\r\n" + block(0))) == 1
    assert dec.resyncs == 0  # bytes before the first frame are not a lost boundary
    got = dec.feed(b"\x00noise" + block(1) + bytes(bad) + block(2) + block(3))
    assert [m.seq for m in got if isinstance(m, Samples)] == [1, 2, 3]
    assert dec.resyncs == 2 and dec.bad_crc == 1
    assert dec.feed(Samples(0, 0, 2, (1.0,)).encode()) == [] and dec.unknown == 1  # 1 of 2


def test_block_size_and_link_capacity() -> None:
    assert [capture_block(c) for c in (1, 3, 6, 60, 61, 200)] == [60, 20, 10, 1, 1, 1]
    # at most about a second of samples a frame
    assert [capture_block(2, r) for r in (0.2, 1, 12.5, 29.9, 100)] == [1, 1, 12, 29, 30]
    # the firmware README's table
    assert round(max_rate_hz(115200, 6)) == 444 and round(max_rate_hz(921600, 1)) == 21342
    assert link_check("socket://127.0.0.1:1", 9600, 6, 10_000) is None  # TCP: no baud
    assert link_check("/dev/ttyACM0", 115200, 6, 100) is None
    assert "frames may be lost" in str(link_check("/dev/ttyACM0", 115200, 6, 420))
    with pytest.raises(CaptureError, match=r"500 Hz x 6 channels of float32 needs 129,830 baud"):
        link_check("/dev/ttyACM0", 115200, 6, 500)


# ------------------------------------------------------------------------ the reader


def test_slow_rates_wait_for_two_frames_before_calling_the_stream_stopped() -> None:
    from mcuforge.hardware._stream import _Collector

    col = _Collector(2, 0.2, None, "x")
    assert col.patience(10) == 10
    col.on_stream(Stream(FW_ID, 2, 1, 0.2, 0, 0, 0, 0))
    assert col.patience(3) == 10  # a frame every 5 s


def test_reads_the_asked_seconds_exactly(loop: serial.SerialBase) -> None:
    loop.write(stream() + b"".join(block(s) for s in range(5)))
    cap = read_capture(loop, 2, 10.0, seconds=1.3, firmware_id=FW_ID, timeout_s=2)
    assert cap.stopped == "complete" and cap.n_samples == 13
    np.testing.assert_array_equal(cap.segments[0], rows([0, 1, 2, 3, 4])[:13])
    assert (cap.stats.frames, cap.stats.lost_frames, cap.stats.resyncs) == (5, 0, 0)
    assert cap.warnings == []


def test_lost_frames_garbage_and_bad_crc_split_the_recording(loop: serial.SerialBase) -> None:
    bad = bytearray(block(3))
    bad[12] ^= 0x01
    loop.write(
        b"\x00garbage"
        + stream()
        + block(0)
        + block(1)
        + b"\xa5\x5a\xff"  # a cut frame
        + block(2, missed=1)
        + bytes(bad)
        + block(4, missed=2)
        + stream(next_seq=5, missed=2)
        + block(5, missed=2)
        + block(8, missed=4)
    )
    cap = read_capture(loop, 2, 10.0, seconds=1.8, timeout_s=2)
    assert [len(s) for s in cap.segments] == [9, 6, 3]
    np.testing.assert_array_equal(cap.segments[1], rows([4, 5]))
    s = cap.stats
    assert (s.lost_frames, s.lost_samples, s.bad_crc, s.missed) == (3, 9, 1, 4)
    assert s.resyncs == 2 and s.restarts == 0


def test_a_firmware_reset_starts_a_new_segment(loop: serial.SerialBase) -> None:
    loop.write(stream() + block(0) + block(1, missed=5) + stream() + block(0) + block(1))
    cap = read_capture(loop, 2, 10.0, seconds=1.2, timeout_s=2)
    assert cap.stats.restarts == 1 and [len(s) for s in cap.segments] == [6, 6]
    assert cap.stats.missed == 5 and cap.stats.lost_frames == 0


def test_joining_late_waits_for_the_stream_frame(loop: serial.SerialBase) -> None:
    loop.write(block(7) + block(8) + stream(next_seq=9) + block(9))
    cap = read_capture(loop, 2, 10.0, seconds=0.3, timeout_s=2)
    np.testing.assert_array_equal(cap.segments[0], rows([9]))
    assert cap.stats.frames == 1


def test_a_stream_that_does_not_fit_the_spec_is_refused(loop: serial.SerialBase) -> None:
    loop.write(stream(n_channels=3))
    with pytest.raises(CaptureError, match="sends 3 channels, the spec has 2"):
        read_capture(loop, 2, 10.0, seconds=1, timeout_s=1)
    loop.write(stream(rate_hz=50.0))
    with pytest.raises(CaptureError, match="samples at 50 Hz, the spec at 10 Hz"):
        read_capture(loop, 2, 10.0, seconds=1, timeout_s=1)
    loop.write(Hello(FW_ID, 4, 4, 1000, 3).encode())
    with pytest.raises(CaptureError, match="sends a bench report"):
        read_capture(loop, 2, 10.0, seconds=1, timeout_s=1)


def test_another_spec_and_a_synthetic_source_are_warnings(loop: serial.SerialBase) -> None:
    loop.write(stream(firmware_id=bytes(8), source=1, waveform=2) + block(0))
    cap = read_capture(loop, 2, 10.0, seconds=0.3, firmware_id=FW_ID, timeout_s=1)
    other, synthetic = cap.warnings
    assert "built from spec 0000000000000000..., not this one (c449ce1424a92808...)" in other
    assert "synthetic waveform 2" in synthetic


def test_nothing_usable_is_one_clear_error(loop: serial.SerialBase) -> None:
    with pytest.raises(CaptureError, match=r"sent nothing in 0.2 s: .*-DMCUFORGE_MODE=capture"):
        read_capture(loop, 2, 10.0, seconds=1, timeout_s=0.2)
    loop.write(b"\x00" * 40)
    with pytest.raises(CaptureError, match=r"no capture stream from .* \(40 bytes"):
        read_capture(loop, 2, 10.0, seconds=1, timeout_s=0.2)
    loop.write(stream(missed=37))
    with pytest.raises(CaptureError, match="missed 37 sample periods: its sensor hook"):
        read_capture(loop, 2, 10.0, seconds=1, timeout_s=0.2)


def test_a_stream_that_stops_keeps_what_arrived(loop: serial.SerialBase) -> None:
    loop.write(stream() + block(0) + block(1))
    cap = read_capture(loop, 2, 10.0, seconds=10, timeout_s=0.3)
    assert cap.stopped == "stalled" and cap.n_samples == 6


class _InterruptedPort:
    """A port whose third read is Ctrl-C."""

    name = "fake"
    in_waiting = 0

    def __init__(self, data: bytes) -> None:
        self.chunks = [data[: len(data) // 2], data[len(data) // 2 :]]

    def read(self, n: int) -> bytes:
        if not self.chunks:
            raise KeyboardInterrupt
        return self.chunks.pop(0)


def test_ctrl_c_keeps_what_arrived() -> None:
    port = _InterruptedPort(stream() + block(0) + block(1) + block(2))
    cap = read_capture(port, 2, 10.0, timeout_s=5)
    assert cap.stopped == "interrupted" and cap.n_samples == 9


# ---------------------------------------------------------------------- recordings


def _data(**kw: Any) -> Data:
    base: dict[str, Any] = {
        "path": "data",
        "sensors": [{"name": "imu", "channels": ["a", "b"], "rate_hz": 50}],
        "window": {"length": 4},
    }
    return Data.model_validate(base | kw)


TRICKY = np.array(
    [[0.1, -1e-42], [3.4028235e38, 1.17549435e-38], [16777217.0, 2.5], [0.3, 1e-7]], np.float32
)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"csv": {"time_column": "t_ms", "time_unit": "ms", "delimiter": ";"}},
        {"labels": {"from": "column", "column": "activity"}, "split": {"subject_column": "who"}},
        {"csv": {"layout": "long", "time_column": "t"}},
        {"csv": {"time_column": "t", "delimiter": ";", "decimal": ","}},
    ],
    ids=["wide", "time-delimiter", "label-subject", "long", "decimal-comma"],
)
def test_recordings_read_back_bit_for_bit(tmp_path: Path, kw: dict[str, Any]) -> None:
    data = _data(**kw)
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2**32, size=(60, 2), dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([TRICKY, bits.view(np.float32)])
    x[~np.isfinite(x)] = 1.5  # random bits can be NaN/inf; those are tested apart
    path = tmp_path / "rec.csv"
    path.write_text(csv_text(x, data, "walk", subject="s07"))
    if data.csv.decimal == ",":  # written as the user's own files are
        assert path.read_text().splitlines()[1].startswith("0;0,1;")
    label_col = data.labels.column
    rec, _ = read_csv(
        path, "walk/rec.csv", data.channels, data.csv, label_col, "walk", False,
        data.split.subject_column,
    )  # fmt: skip
    np.testing.assert_array_equal(rec.samples.view(np.uint32), x.view(np.uint32))
    assert rec.label == "walk"
    if data.split.subject_column:
        assert rec.subject == "s07"
    if data.csv.time_column:
        step = 20.0 if data.csv.time_unit == "ms" else 0.02
        assert rec.times is not None
        np.testing.assert_allclose(rec.times, np.arange(len(x)) * step, rtol=1e-12)


def test_the_wide_layout_as_written() -> None:
    x = np.array([[0.1, float("nan")], [-2.0, float("inf")]], np.float32)
    text = csv_text(x, _data(csv={"time_column": "t"}), "walk")
    assert text == "t,a,b\n0,0.1,nan\n0.02,-2.0,inf\n"


def test_labels_that_are_not_plain_folder_names_are_refused() -> None:
    task = Task(kind="classification")
    assert check_label(" walking ", task) == "walking"
    for bad in ["", "../x", "a/b", "a\\b", ".hidden", "..", "tab\there", "x" * 101]:
        with pytest.raises(OutputError):
            check_label(bad, task)
    with pytest.raises(OutputError, match="a regression target is a number"):
        check_label("heavy", Task(kind="regression"))
    assert check_label("2.5", Task(kind="regression")) == "2.5"


def test_the_layout_must_be_a_csv_folder_of_time_series(tmp_path: Path) -> None:
    task = Task(kind="classification")
    wav = _data(format="wav", sensors=[{"name": "mic", "channels": ["m"], "rate_hz": 16000}])
    with pytest.raises(DataError, match=r"`data\.format` is wav"):
        check_layout(wav, task)
    table = Data.model_validate(
        {
            "path": "t.csv",
            "sensors": [{"name": "f", "channels": ["a"]}],
            "csv": {"layout": "table"},
            "labels": {"from": "column", "column": "y"},
        }
    )
    with pytest.raises(DataError, match="table"):
        check_layout(table, task)
    (tmp_path / "one.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"`data\.path` is one file"):
        label_folder(_data(path="one.csv"), tmp_path, "walk")


def test_a_label_folder_leading_outside_the_data_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "data" / "walk").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="leads outside the data folder"):
        label_folder(_data(), tmp_path, "walk")
    assert label_folder(_data(), tmp_path, "run") == (tmp_path / "data" / "run").resolve()


def test_a_recording_never_overwrites_one(tmp_path: Path) -> None:
    folder = tmp_path / "walk"
    first = write_new(folder, "20250314T101502Z", "a\n1\n")
    second = write_new(folder, "20250314T101502Z", "a\n2\n")
    (folder / "20250314T101502Z-3.csv").write_text("mine\n")
    third = write_new(folder, "20250314T101502Z", "a\n3\n")
    assert [p.name for p in (first, second, third)] == [
        "20250314T101502Z.csv",
        "20250314T101502Z-2.csv",
        "20250314T101502Z-4.csv",
    ]
    assert first.read_text() == "a\n1\n" and (folder / "20250314T101502Z-3.csv").read_text() == (
        "mine\n"
    )
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


# ------------------------------------------------------------------------ the command


@contextmanager
def fake_board(data: bytes) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that sends ``data`` to its first client and closes."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.sendall(data)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        yield f"socket://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        srv.close()
        th.join(5)


def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    for label in ("first", "second"):
        (tmp_path / "data" / label).mkdir(parents=True)
        (tmp_path / "data" / label / "old.csv").write_text("a,b\n1,2\n")
    return spec


def test_the_command_writes_into_the_data_and_reports(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    fw = bytes.fromhex(load_spec(spec).sha256[:16])
    frames = stream(firmware_id=fw) + b"".join(block(s) for s in (0, 1, 3, 4))
    with fake_board(frames) as url:
        res = CliRunner().invoke(
            cli, ["capture", str(spec), "--port", url, "--label", "third", "--seconds", "1.2",
                  "--json"],
        )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["label"] == "third" and out["new_label"] is True and out["samples"] == 12
    assert out["stats"]["lost_frames"] == 1 and out["segments"] == [6, 6]
    assert out["stopped"] == "complete"
    files = [Path(f) for f in out["files"]]
    assert len(files) == 2 and all(f.parent.name == "third" for f in files)
    assert files[1].name.endswith("-2.csv")
    text = (tmp_path / "data" / "third" / files[0].name).read_text()
    assert text.splitlines()[:2] == ["a,b", "0.0,0.1"]
    assert "'third' is a new class (the data has first, second)" in res.stderr
    assert "wrote " in res.stderr


def test_the_command_exits_1_when_the_stream_stops_early(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    with fake_board(stream() + block(0)) as url:
        res = CliRunner().invoke(
            cli, ["capture", str(spec), "--port", url, "--label", "first", "--seconds", "5",
                  "--timeout", "0.5"],
        )  # fmt: skip
    assert res.exit_code == 1
    assert "capture: 3 samples" in res.stdout and "stopped early" in res.stderr
    assert len(list((tmp_path / "data" / "first").glob("2*.csv"))) == 1


def test_the_command_refuses_a_bad_label_before_opening_the_port(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    res = CliRunner().invoke(cli, ["capture", str(spec), "--port", "loop://", "--label", "../x"])
    assert res.exit_code == 2 and "not a plain folder name" in res.stderr


# ------------------------------------------------------------- the firmware's runtime

HARNESS = r"""
#include <stdio.h>
#include "mcuforge_app.h"
void mcuforge_port_write(const uint8_t *d, size_t n) { fwrite(d, 1u, n, stdout); }
void mcuforge_port_cycles_start(void) {}
uint32_t mcuforge_port_cycles_elapsed(void) { return 0u; }
uint8_t mcuforge_port_counter(void) { return 2u; }
uint32_t mcuforge_port_counter_hz(void) { return 1000000u; }
uintptr_t mcuforge_port_stack_bottom(void) { return 0u; }
int main(void)
{
    float s[MCUFORGE_N_CHANNELS];
    int i;
    mcuforge_capture_start(MCUFORGE_SOURCE_SYNTH, 2u);
    for (i = 0; i < 35; i++) { (void)mcuforge_synth_read(2u, s); (void)mcuforge_capture_push(s); }
    mcuforge_capture_missed(3u);
    for (i = 0; i < 30; i++) { (void)mcuforge_synth_read(2u, s); (void)mcuforge_capture_push(s); }
    return 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
def test_the_capture_runtime_on_the_host(tmp_path: Path) -> None:
    from mcuforge import scaffold
    from mcuforge.catalog import load_catalog

    from .test_scaffold import small_model

    catalog = load_catalog(None)
    t = catalog.target("nrf52840")
    v = scaffold.context("gesture", t, catalog.core(t.core), None, FW_ID.hex() * 4, RECIPE, 1)
    project = scaffold.render(
        "cmake-baremetal", v, small_model("gesture", "classification"), tmp_path / "fw"
    )
    src = project / "src"
    (tmp_path / "main.c").write_text(HARNESS)
    exe = tmp_path / "capture"
    sources = [src / "mcuforge_capture.c", src / "mcuforge_bench.c", *(src / "model").glob("*.c")]
    subprocess.run(
        ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{src}",
         f"-I{src / 'model'}", *map(str, sources), str(tmp_path / "main.c"), "-o", str(exe)],
        check=True, capture_output=True,
    )  # fmt: skip
    out = subprocess.run([str(exe)], check=True, capture_output=True).stdout
    dec = FrameDecoder()
    frames = dec.feed(out)
    assert dec.skipped == 0 and dec.bad_crc == 0  # nothing but frames
    streams = [f for f in frames if isinstance(f, Stream)]
    blocks = [f for f in frames if isinstance(f, Samples)]
    # frames of 10 samples: 240 bytes would hold 30, a second at 10 Hz is 10
    assert streams[0] == Stream(FW_ID, 2, 10, 10.0, 1, 2, 0, 0)
    # STREAM again every 10 sample periods, the 3 missed ones included
    assert len(streams) == 1 + (35 + 3 + 30) // 10
    assert streams[-1].missed == 3 and streams[-1].next_seq == 5
    assert [(b.seq, b.missed) for b in blocks] == [(0, 0), (1, 0), (2, 0), (3, 3), (4, 3), (5, 3)]
    assert {b.n_samples for b in blocks} == {10}
    got = np.array([v for b in blocks for v in b.values], np.float32).reshape(-1, 2)
    np.testing.assert_array_equal(got.view(np.uint32), synth(2, 0, 60, 2).view(np.uint32))


# ---------------------------------------------------- the firmware in QEMU, end to end


def _reference_recordings(data: Path) -> None:
    """Two recordings per class of the synthetic waveforms, far from the firmware's."""
    for k, label in enumerate(CLASSES):
        (data / label).mkdir(parents=True)
        for j, start in enumerate((100_000, 200_000)):
            x = synth(k, start, 320, 2)
            lines = ["a,b", *(f"{r[0]!r},{r[1]!r}" for r in x.tolist())]
            (data / label / f"ref_{j}.csv").write_text("\n".join(lines) + "\n")


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_capture_from_the_firmware_in_qemu_then_generate(tmp_path: Path) -> None:
    from mcuforge import scaffold
    from mcuforge.catalog import load_catalog
    from mcuforge.hardware.qemu import build_firmware, serve_elf
    from mcuforge.pipeline import generate

    from .test_scaffold import small_model

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    _reference_recordings(tmp_path / "data")
    loaded = load_spec(spec)
    # the spec's firmware with a stand-in model: capture mode does not run the model
    catalog = load_catalog(None)
    t = catalog.target("nrf52840")
    qemu = catalog.qemu_machines["mps2-an386"]
    v = scaffold.context("gesture", t, catalog.core(t.core), qemu, loaded.sha256, RECIPE, 1)
    project = scaffold.render(
        "cmake-baremetal",
        scaffold.qemu_context(v, t, qemu),
        small_model("gesture", "classification"),
        tmp_path / "fw",
    )
    build_firmware(project, tmp_path / "b-board", "board", {"MCUFORGE_MODE": "capture"})
    for k, label in enumerate(CLASSES):
        options = {"MCUFORGE_MODE": "capture", "MCUFORGE_CAPTURE_SYNTH": str(k)}
        elf = build_firmware(project, tmp_path / f"b{k}", "mps2", options)
        with serve_elf(elf, "mps2-an386") as url:
            res = CliRunner().invoke(
                cli, ["capture", str(spec), "--port", url, "--label", label, "--seconds", "32",
                      "--json"],
            )  # fmt: skip
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert out["samples"] == 320 and out["stopped"] == "complete"
        assert out["stream"]["firmware"] == loaded.sha256[:16]
        assert out["stream"]["source"] == f"synthetic waveform {k}"
        stats = out["stats"]
        assert stats["lost_frames"] == stats["bad_crc"] == stats["resyncs"] == 0
        assert stats["missed"] == stats["restarts"] == 0
        (name,) = out["files"]
        rec, _ = read_csv(
            tmp_path / "data" / label / Path(name).name,
            name, ["a", "b"], loaded.spec.data.csv, None, label,
        )  # fmt: skip
        np.testing.assert_array_equal(
            rec.samples.view(np.uint32), synth(k, 0, 320, 2).view(np.uint32)
        )
    result = generate(spec, tmp_path / "out", trials=1, force=True, measure_cost=False)
    summary = result.report["data_check"]["summary"]
    assert summary["recordings"] == 9
    assert [c["recordings"] for c in summary["classes"]] == [3, 3, 3]
    assert result.report["data"]["train_windows"] + result.report["data"]["test_windows"] == 90
