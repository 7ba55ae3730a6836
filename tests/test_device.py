"""The bench protocol and the serial device profiler, against fake boards.

The fake boards write frames with the protocol's encoders to pyserial's ``loop://``
or from a local TCP server on 127.0.0.1 (``socket://``): garbage, cut frames, bad
CRCs, resets mid-report, another firmware, silence. The last test runs the real
firmware in bench mode in QEMU with its UART on TCP.
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import serial

from mcuforge.cost import Calibration, Cost, Figure
from mcuforge.errors import ParityError
from mcuforge.hardware.bench_check import expected_from_c
from mcuforge.hardware.bench_report import DeviceError, read_report
from mcuforge.hardware.device import device_cost, flash_firmware, profile
from mcuforge.hardware.protocol import (
    Done,
    FrameDecoder,
    Hello,
    Result,
    crc16_ccitt_false,
    encode_frame,
)

SHA = "32378d9fedd713e22a37d5f1f9e710258708fa0a21ee27796838582c2742ad96"
FW_ID = bytes.fromhex(SHA[:16])
EXPECTED = [0, 1, 3, 2]
OUTPUTS: list[list[float]] = [
    [0.75, 0.25, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 0.2, 0.8],
    [0, 0, 1, 0],
]


def report_bytes(
    fw_id: bytes = FW_ID, returns: list[int] | None = None, cycles: int = 6400
) -> bytes:
    """One bench report as the firmware sends it (64 MHz DWT cycles)."""
    returns = EXPECTED if returns is None else returns
    out = Hello(fw_id, len(returns), 4, 64_000_000, 0).encode()
    for i, r in enumerate(returns):
        out += Result(i, r, cycles + 10 * i, tuple(OUTPUTS[i])).encode()
    agree = sum(a == b for a, b in zip(returns, EXPECTED, strict=True))
    return out + Done(agree, len(returns), cycles + 30, 112).encode()


# ------------------------------------------------------------------------ protocol


def test_crc_is_ccitt_false() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_frames_round_trip_and_match_the_documented_layout() -> None:
    hello = Hello(FW_ID, 8, 4, 64_000_000, 1)
    frame = hello.encode()
    assert frame[:2] == b"\xa5\x5a" and frame[2] == 0x01
    assert struct.unpack_from("<H", frame, 3)[0] == 17
    assert frame[5:13] == FW_ID
    assert struct.unpack_from("<H", frame, len(frame) - 2)[0] == crc16_ccitt_false(frame[2:-2])
    res = Result(3, -1, 123456, (1.5, -2.0))
    done = Done(7, 8, 999, 104)
    assert FrameDecoder().feed(frame + res.encode() + done.encode()) == [hello, res, done]
    assert hello.counter_name == "systick"


def test_decoder_resynchronises_on_garbage_cut_frames_and_bad_crc() -> None:
    good = Result(1, 2, 3, (4.0,)).encode()
    bad = bytearray(good)
    bad[8] ^= 0xFF  # a payload byte: CRC mismatch
    stream = b"boot\xa5\xa5\x5a\xff\xff" + good[:6] + bytes(bad) + b"\x00\xa5" + good
    dec = FrameDecoder()
    got = [m for i in range(len(stream)) for m in dec.feed(stream[i : i + 1])]
    assert got == [Result(1, 2, 3, (4.0,))]
    assert dec.bad_crc >= 1
    assert dec.skipped > 0


def test_decoder_counts_unknown_types_and_malformed_payloads() -> None:
    dec = FrameDecoder()
    assert dec.feed(encode_frame(0x7F, b"xx") + encode_frame(0x01, b"short")) == []
    assert dec.unknown == 2


# ------------------------------------------------------------------------- loop://


@pytest.fixture
def loop() -> Iterator[serial.SerialBase]:
    port = serial.serial_for_url("loop://", timeout=0.05)
    yield port
    port.close()


def test_reads_a_report_among_garbage(loop: serial.SerialBase) -> None:
    loop.write(b"\x00\xffnoise\xa5" + report_bytes() + b"more noise")
    rep = read_report(loop, FW_ID, timeout_s=2)
    assert [r.returned for r in rep.results] == EXPECTED
    assert rep.results[2].outputs == pytest.approx(tuple(OUTPUTS[2]))
    assert rep.cycles_max == 6430
    assert rep.ms(rep.cycles_max) == pytest.approx(6430 / 64e3, abs=1e-6)
    assert rep.done.stack_bytes == 112
    assert rep.skipped_bytes >= 8


def test_board_reset_mid_report_restarts_the_collection(loop: serial.SerialBase) -> None:
    full = report_bytes(cycles=9000)
    cut = full.index(Done(0, 0, 0, 0).encode()[:3])  # up to DONE, then reset
    loop.write(full[: cut - 7] + report_bytes(cycles=100))
    rep = read_report(loop, FW_ID, timeout_s=2)
    assert rep.restarts == 1
    assert rep.cycles == [100, 110, 120, 130]


def test_report_with_a_bad_frame_is_dropped_and_the_next_one_used(
    loop: serial.SerialBase,
) -> None:
    first = bytearray(report_bytes(cycles=5000))
    first[40] ^= 0x55  # inside the first RESULT
    loop.write(bytes(first) + report_bytes(cycles=200))
    rep = read_report(loop, FW_ID, timeout_s=2)
    assert rep.bad_crc == 1
    assert rep.cycles[0] == 200


def test_joining_mid_report_waits_for_the_next_hello(loop: serial.SerialBase) -> None:
    full = report_bytes(cycles=7000)
    loop.write(full[30:] + report_bytes(cycles=300))
    assert read_report(loop, FW_ID, timeout_s=2).cycles[0] == 300


def test_firmware_from_another_spec_is_a_clear_error(loop: serial.SerialBase) -> None:
    loop.write(report_bytes(fw_id=bytes(range(8))))
    with pytest.raises(DeviceError, match=r"built from spec 0001020304050607\.\.\., not 32378d9f"):
        read_report(loop, FW_ID, timeout_s=2)


def test_silence_and_garbage_time_out_with_what_was_seen(loop: serial.SerialBase) -> None:
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match=r"loop://.* sent nothing in 0.3 s: is the board"):
        read_report(loop, FW_ID, timeout_s=0.3)
    assert time.monotonic() - t0 < 2
    loop.write(b"\x00" * 50 + report_bytes()[:40])
    with pytest.raises(DeviceError, match=r"no complete bench report from .* \(90 bytes"):
        read_report(loop, FW_ID, timeout_s=0.3)


def test_a_port_that_does_not_exist_is_one_line() -> None:
    with pytest.raises(DeviceError) as err:
        read_report("/dev/ttyMCUFORGE-none", FW_ID, timeout_s=0.5)
    msg = str(err.value)
    assert msg.startswith("cannot open serial port /dev/ttyMCUFORGE-none: ")
    assert "\n" not in msg


# --------------------------------------------------------------------- socket://


@contextmanager
def fake_board(chunks: list[bytes], delay_s: float = 0.01, close: bool = True) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that sends ``chunks`` to its first client."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            for c in chunks:
                conn.sendall(c)
                time.sleep(delay_s)
            if not close:
                stop.wait(5)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        yield f"socket://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        srv.close()
        th.join(5)


def test_reads_a_report_sent_in_pieces_over_tcp() -> None:
    data = b"\r\nboot v1\r\n" + report_bytes()
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    with fake_board(chunks, delay_s=0.001) as url:
        rep = read_report(url, FW_ID, timeout_s=5)
    assert [r.returned for r in rep.results] == EXPECTED


def test_connection_closed_before_the_report_ends() -> None:
    with fake_board([report_bytes()[:50]]) as url, pytest.raises(DeviceError, match="closed"):
        read_report(url, FW_ID, timeout_s=5)


def test_board_that_does_not_answer_over_tcp() -> None:
    with fake_board([], close=False) as url, pytest.raises(DeviceError, match="sent nothing"):
        read_report(url, FW_ID, timeout_s=0.3)


def test_nothing_listening_on_the_tcp_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeviceError, match=rf"cannot open serial port socket://127.0.0.1:{port}"):
        read_report(f"socket://127.0.0.1:{port}", FW_ID, timeout_s=0.5)


# ------------------------------------------------------------------ mcuforge profile

VECTORS_C = """\
const int16_t mcuforge_test_expected[MCUFORGE_N_TEST_WINDOWS] = {
    0, 1, 3,
    2
};
"""


def fake_output(tmp_path: Path, with_outputs: bool = False) -> Path:
    out = tmp_path / "out"
    (out / "firmware/src/model").mkdir(parents=True)
    (out / "firmware/src/model/test_vectors.c").write_text(VECTORS_C)
    cost: dict[str, dict[str, Any]] = {
        "flash_bytes": {"value": 700.0, "source": "compiled"},
        "sram_bytes": {"value": 104.0, "source": "emulated"},
        "latency_ms": {"value": 0.1, "source": "emulated"},
        "instructions": {"value": 5120.0, "source": "emulated"},
    }
    report: dict[str, Any] = {
        "spec_sha256": SHA,
        "cost": cost,
        "analytic_cost": {
            k: {"value": v["value"] * 0.9, "source": "analytic"} for k, v in cost.items()
        },
        "measurements": [{"figure": "flash_bytes", "analytic": 630.0, "measured": 700.0}],
        "target": {"name": "nrf52840", "core": "cortex-m4f", "clock_mhz": 64},
        "hardware": {"compiled": {"static_sram_bytes": 8}},
    }
    if with_outputs:
        report["test_vectors"] = {"expected": EXPECTED, "outputs": OUTPUTS}
    (out / "report.json").write_text(json.dumps(report))
    return out


def test_expected_values_are_read_from_test_vectors_c() -> None:
    assert expected_from_c(VECTORS_C) == EXPECTED


def test_profile_writes_device_json_and_updates_the_report(tmp_path: Path) -> None:
    out = fake_output(tmp_path, with_outputs=True)
    with fake_board([report_bytes()]) as url:
        prof = profile(out, url, timeout_s=5)
    assert prof.check.agree == prof.check.total == 4
    dev = json.loads((out / "device.json").read_text())
    assert dev["agree"] == 4 and dev["counter"] == "dwt_cycles"
    assert dev["latency_ms"] == pytest.approx(6430 / 64e3, abs=1e-6)
    assert dev["cpi"] == pytest.approx(6430 / 5120, abs=1e-4)
    assert [w["outputs_ok"] for w in dev["windows"]] == [True] * 4
    rep = json.loads((out / "report.json").read_text())
    assert rep["cost"]["latency_ms"] == {"value": pytest.approx(0.100469), "source": "device"}
    assert rep["cost"]["sram_bytes"] == {"value": 120.0, "source": "device"}
    assert rep["cost"]["flash_bytes"]["source"] == "compiled"
    rows = {r["figure"]: r for r in rep["measurements"]}
    assert rows["latency_ms"]["source"] == "device"
    assert rows["flash_bytes"]["measured"] == 700.0
    assert rep["device"]["port"] == url
    cal = Calibration.load(out / "calibration.json")
    assert cal.factors("nrf52840", "cortex-m4f")["latency_ms"] == pytest.approx(0.100469 / 0.09)


def test_profile_reports_disagreement_and_leaves_the_report(tmp_path: Path) -> None:
    out = fake_output(tmp_path)
    before = (out / "report.json").read_text()
    with (
        fake_board([report_bytes(returns=[0, 1, 2, 2])]) as url,
        pytest.raises(
            ParityError, match=r"disagrees with Python on 1 of 4 test windows \(first: \[2\]\)"
        ),
    ):
        profile(out, url, timeout_s=5)
    assert (out / "report.json").read_text() == before
    assert json.loads((out / "device.json").read_text())["agree"] == 3


def test_profile_needs_a_generated_output(tmp_path: Path) -> None:
    """A folder that is not an output is a usage error (exit 2, as `report`), not a
    device failure (exit 1)."""
    from mcuforge.errors import OutputError

    with pytest.raises(OutputError, match=r"report\.json not found") as err:
        profile(tmp_path, "loop://", timeout_s=0.1)
    assert err.value.exit_code == 2


def test_device_cost_flashes_then_measures(tmp_path: Path) -> None:
    base = Cost(
        Figure(700, "compiled"),
        Figure(104, "emulated"),
        Figure(0.1, "emulated"),
        Figure(5120, "emulated"),
    )
    flashed: list[Path] = []
    with fake_board([report_bytes()]) as url:
        cost, details = device_cost(
            tmp_path / "fw.elf",
            url,
            FW_ID,
            EXPECTED,
            base,
            static_sram=8,
            flash=flashed.append,
            timeout_s=5,
        )
    assert flashed == [tmp_path / "fw.elf"]
    assert cost.latency_ms.source == cost.sram_bytes.source == "device"
    assert cost.flash_bytes == base.flash_bytes and cost.instructions == base.instructions
    assert details["cycles_max"] == 6430


def test_flash_command_is_run_with_the_file_names(tmp_path: Path) -> None:
    marker = tmp_path / "flashed.txt"
    py = shutil.which("python3") or "python3"
    flash_firmware(
        f"{py} -c \"import sys; open(sys.argv[1], 'w').write(sys.argv[2])\" {marker} {{hex}}",
        tmp_path / "fw.elf",
    )
    assert marker.read_text() == str(tmp_path / "fw.hex")
    with pytest.raises(DeviceError, match="flash command exited with 3"):
        flash_firmware(f"{py} -c 'raise SystemExit(3)'", tmp_path / "fw.elf")
    with pytest.raises(DeviceError, match="flash command not found: no-such-flasher"):
        flash_firmware("no-such-flasher {elf}", tmp_path / "fw.elf")


# --------------------------------------------------- the real bench firmware in QEMU


@pytest.mark.slow
@pytest.mark.toolchain
@pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("arm-none-eabi-gcc", "qemu-system-arm", "cmake")),
    reason="needs arm-none-eabi-gcc, qemu-system-arm and cmake",
)
def test_bench_firmware_in_qemu_profiled_over_tcp(tmp_path: Path) -> None:
    from mcuforge.hardware.emulate import emulate_elf, unicorn_installed
    from mcuforge.hardware.qemu import build_firmware, serve_elf
    from mcuforge.pipeline import generate

    from .conftest import EXAMPLE

    out = generate(EXAMPLE / "spec.yaml", tmp_path / "out", trials=2, force=True).out_dir
    elf = build_firmware(out / "firmware", tmp_path / "build", "mps2", {"MCUFORGE_MODE": "bench"})
    cal = out / "calibration.json"
    before = (cal.read_bytes() if cal.exists() else b"", (out / "report.json").read_bytes())
    with serve_elf(elf, "mps2-an386") as url:
        prof = profile(out, url, timeout_s=60)
    dev = json.loads((out / "device.json").read_text())
    assert dev["agree"] == dev["total"] == 8
    assert dev["firmware_agree"] == 8
    # QEMU's counter is instructions (SysTick under -icount), 1e9 per second
    assert dev["counter"] == "qemu_instructions" and dev["clock_hz"] == 1_000_000_000
    assert dev["latency_ms"] == pytest.approx(dev["cycles_max"] / 1e6, abs=1e-6)
    # QEMU's time is no board's: report.json and the calibration are left alone (it
    # took the nominal 1 GHz for the part's clock: a latency 20x too low, as `device`)
    assert prof.emulated
    assert (cal.read_bytes() if cal.exists() else b"", (out / "report.json").read_bytes()) == before
    if unicorn_installed():
        # the same ELF in unicorn: PREFIX_run as the firmware times it. SysTick ticks of
        # 40 instructions (-icount shift=0, 25 MHz) quantise, and the timed span also
        # holds the two timer reads (systick_now, measured 12-47 instructions): 2 ticks.
        run = emulate_elf(elf, "basicmotions", "CORTEX_M4", function="run")
        assert run.agree == 8
        for w, n in zip(prof.check.windows, run.instructions, strict=True):
            assert abs(w["cycles"] - n) <= 80, (w["cycles"], n)
        assert dev["stack_bytes"] == run.stack_bytes
