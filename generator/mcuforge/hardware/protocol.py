"""The frames a firmware sends over its UART: the bench report of ``-DMCUFORGE_MODE=bench``
and the sample stream of ``-DMCUFORGE_MODE=capture``.

Every message is one frame::

    0xA5 0x5A | type u8 | len u16 LE | payload (len bytes) | crc u16 LE

``crc`` is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final
xor) over ``type``, ``len`` and ``payload``. All integers are little-endian.

A report is ``HELLO``, one ``RESULT`` per test window, then ``DONE``:

=========  ====  ==========================================================
message    type  payload
=========  ====  ==========================================================
HELLO      0x01  firmware id (first 8 bytes of the spec sha256, raw),
                 n_windows u16, n_outputs u16, clock_hz u32,
                 counter u8 (0: DWT core cycles, 1: SysTick at the core clock,
                 2: microseconds, 3: instructions in QEMU under -icount)
RESULT     0x02  window u16, returned i16, cycles u32, n_outputs x f32
DONE       0x03  agree u16, total u16, cycles_max u32, stack_bytes u32
=========  ====  ==========================================================

A capture stream is ``STREAM`` (again about once a second), then ``SAMPLES`` frames
numbered from 0:

=========  ====  ==========================================================
message    type  payload
=========  ====  ==========================================================
STREAM     0x04  firmware id (8 bytes), n_channels u16, block_samples u16,
                 rate_hz f32, source u8 (0: the sensor hook, 1: synthetic),
                 waveform u8, next_seq u32, missed u32
SAMPLES    0x05  seq u32, missed u32, n_channels u16, n_samples u16,
                 n_samples x n_channels f32 (sample-major, the model's channel
                 order and units)
=========  ====  ==========================================================

``missed`` counts the sample periods since reset without a sample (the sensor hook had
none, or the firmware fell a period behind because the link is too slow).

:class:`FrameDecoder` takes bytes as they arrive and returns whole frames: it skips
bytes that are not a frame (noise, a boot banner, a frame cut by a reset), drops a
frame whose CRC fails and looks for the next marker from the byte after the bad one.
The ``encode`` methods write the same frames (used by tests and by host-side fakes).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import ClassVar

MARKER = b"\xa5\x5a"
HELLO, RESULT, DONE, STREAM, SAMPLES = 0x01, 0x02, 0x03, 0x04, 0x05
#: Counter kinds in HELLO.
COUNTERS = {0: "dwt_cycles", 1: "systick", 2: "micros", 3: "qemu_instructions"}
#: STREAM.source values.
SOURCES = {0: "sensor", 1: "synthetic"}
#: Largest payload accepted: a RESULT with 1,000 outputs, a SAMPLES frame of one sample
#: of 1,000 channels. A longer ``len`` is taken for noise that looks like a marker, so
#: one bad byte cannot stall the decoder.
MAX_PAYLOAD = 12 + 4 * 1000
#: Bytes a SAMPLES frame carries besides its floats: marker, type, len, crc (7) and
#: seq, missed, n_channels, n_samples (12).
SAMPLES_OVERHEAD = 7 + 12
#: Bytes of one STREAM frame (sent about once a second).
STREAM_FRAME_BYTES = 7 + 26
_HEADER = struct.Struct("<BH")


def capture_block(n_channels: int, rate_hz: float | None = None) -> int:
    """Samples per SAMPLES frame of the capture firmware: as many as fit in 240 bytes of
    floats (``MCUFORGE_CAPTURE_BLOCK``), and at most ``floor(rate_hz)`` (about a second
    of samples), at least one."""
    most = 1 if 4 * n_channels >= 240 else 240 // (4 * n_channels)
    if rate_hz is None:
        return most
    rate32: float = struct.unpack("<f", struct.pack("<f", rate_hz))[0]  # the firmware's float
    return max(1, min(most, math.floor(rate32)))


def max_rate_hz(baudrate: int, n_channels: int, block: int | None = None) -> float:
    """The highest sample rate a UART at ``baudrate`` (8N1: 10 bits a byte) carries in
    capture mode: float32 samples plus each frame's overhead and a STREAM a second
    (frames of ``block`` samples; default: the most a frame holds, as at such rates)."""
    block = block or capture_block(n_channels)
    per_sample = 4 * n_channels + SAMPLES_OVERHEAD / block
    return max(baudrate / 10 - STREAM_FRAME_BYTES, 0.0) / per_sample


def crc16_ccitt_false(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (check value of b"123456789" is 0x29B1)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode_frame(kind: int, payload: bytes) -> bytes:
    """One frame: marker, type, length, payload, CRC."""
    body = _HEADER.pack(kind, len(payload)) + payload
    return MARKER + body + struct.pack("<H", crc16_ccitt_false(body))


class ProtocolError(ValueError):
    """A frame with a valid CRC whose payload does not fit its type."""


@dataclass(frozen=True)
class Hello:
    """Start of a report: which firmware, how many windows, how time is counted."""

    firmware_id: bytes
    n_windows: int
    n_outputs: int
    clock_hz: int
    counter: int

    kind: ClassVar[int] = HELLO
    _fmt: ClassVar[struct.Struct] = struct.Struct("<8sHHIB")

    @property
    def firmware_hex(self) -> str:
        return self.firmware_id.hex()

    @property
    def counter_name(self) -> str:
        return COUNTERS.get(self.counter, f"unknown({self.counter})")

    def encode(self) -> bytes:
        return encode_frame(
            HELLO,
            self._fmt.pack(
                self.firmware_id, self.n_windows, self.n_outputs, self.clock_hz, self.counter
            ),
        )

    @classmethod
    def decode(cls, payload: bytes) -> Hello:
        if len(payload) != cls._fmt.size:
            raise ProtocolError(f"HELLO payload has {len(payload)} bytes, expected 17")
        return cls(*cls._fmt.unpack(payload))


@dataclass(frozen=True)
class Result:
    """One test window: what the model returned, its cycles and its output vector."""

    window: int
    returned: int
    cycles: int
    outputs: tuple[float, ...] = field(default_factory=tuple)

    kind: ClassVar[int] = RESULT
    _fmt: ClassVar[struct.Struct] = struct.Struct("<HhI")

    def encode(self) -> bytes:
        head = self._fmt.pack(self.window, self.returned, self.cycles)
        return encode_frame(RESULT, head + struct.pack(f"<{len(self.outputs)}f", *self.outputs))

    @classmethod
    def decode(cls, payload: bytes) -> Result:
        n, rest = divmod(len(payload) - cls._fmt.size, 4)
        if n < 0 or rest:
            raise ProtocolError(f"RESULT payload of {len(payload)} bytes is not 8 + 4 * n")
        window, returned, cycles = cls._fmt.unpack_from(payload)
        outputs = struct.unpack_from(f"<{n}f", payload, cls._fmt.size)
        return cls(window, returned, cycles, tuple(outputs))


@dataclass(frozen=True)
class Done:
    """End of a report: the firmware's own count of agreements, worst cycles, stack."""

    agree: int
    total: int
    cycles_max: int
    stack_bytes: int

    kind: ClassVar[int] = DONE
    _fmt: ClassVar[struct.Struct] = struct.Struct("<HHII")

    def encode(self) -> bytes:
        return encode_frame(
            DONE, self._fmt.pack(self.agree, self.total, self.cycles_max, self.stack_bytes)
        )

    @classmethod
    def decode(cls, payload: bytes) -> Done:
        if len(payload) != cls._fmt.size:
            raise ProtocolError(f"DONE payload has {len(payload)} bytes, expected 12")
        return cls(*cls._fmt.unpack(payload))


@dataclass(frozen=True)
class Stream:
    """The layout of a capture stream: which firmware, how many channels, the rate."""

    firmware_id: bytes
    n_channels: int
    block_samples: int
    rate_hz: float
    source: int
    waveform: int
    next_seq: int
    missed: int

    kind: ClassVar[int] = STREAM
    _fmt: ClassVar[struct.Struct] = struct.Struct("<8sHHfBBII")

    @property
    def firmware_hex(self) -> str:
        return self.firmware_id.hex()

    @property
    def source_name(self) -> str:
        name = SOURCES.get(self.source, f"unknown({self.source})")
        return f"{name} waveform {self.waveform}" if self.source == 1 else name

    def encode(self) -> bytes:
        return encode_frame(
            STREAM,
            self._fmt.pack(
                self.firmware_id,
                self.n_channels,
                self.block_samples,
                self.rate_hz,
                self.source,
                self.waveform,
                self.next_seq,
                self.missed,
            ),
        )

    @classmethod
    def decode(cls, payload: bytes) -> Stream:
        if len(payload) != cls._fmt.size:
            raise ProtocolError(f"STREAM payload has {len(payload)} bytes, expected 26")
        return cls(*cls._fmt.unpack(payload))


@dataclass(frozen=True)
class Samples:
    """One block of samples: ``values`` has ``n_samples * n_channels`` floats, sample-major."""

    seq: int
    missed: int
    n_channels: int
    values: tuple[float, ...]

    kind: ClassVar[int] = SAMPLES
    _fmt: ClassVar[struct.Struct] = struct.Struct("<IIHH")

    @property
    def n_samples(self) -> int:
        return len(self.values) // self.n_channels if self.n_channels else 0

    def encode(self) -> bytes:
        head = self._fmt.pack(self.seq, self.missed, self.n_channels, self.n_samples)
        return encode_frame(SAMPLES, head + struct.pack(f"<{len(self.values)}f", *self.values))

    @classmethod
    def decode(cls, payload: bytes) -> Samples:
        if len(payload) < cls._fmt.size:
            raise ProtocolError(f"SAMPLES payload of {len(payload)} bytes is shorter than 12")
        seq, missed, n_channels, n_samples = cls._fmt.unpack_from(payload)
        n = n_channels * n_samples
        if n_channels == 0 or len(payload) != cls._fmt.size + 4 * n:
            raise ProtocolError(
                f"SAMPLES payload of {len(payload)} bytes does not hold {n_samples} samples "
                f"of {n_channels} channels"
            )
        return cls(seq, missed, n_channels, struct.unpack_from(f"<{n}f", payload, cls._fmt.size))


Message = Hello | Result | Done | Stream | Samples
_DECODERS: dict[int, type[Hello] | type[Result] | type[Done] | type[Stream] | type[Samples]] = {
    HELLO: Hello,
    RESULT: Result,
    DONE: Done,
    STREAM: Stream,
    SAMPLES: Samples,
}


@dataclass
class FrameDecoder:
    """Incremental frame parser that resynchronises on the marker.

    Attributes:
        skipped: bytes dropped because they were not part of a valid frame.
        bad_crc: frames dropped for a CRC mismatch.
        unknown: frames with a valid CRC but an unknown type or malformed payload.
        resyncs: times the decoder lost the frame boundary and searched for the next
            marker (a run of skipped bytes, or a frame dropped for its CRC or length).
    """

    skipped: int = 0
    bad_crc: int = 0
    unknown: int = 0
    resyncs: int = 0
    _buf: bytearray = field(default_factory=bytearray)
    _in_sync: bool = False

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages completed by them, in order."""
        self._buf += data
        out: list[Message] = []
        buf = self._buf
        while True:
            start = buf.find(MARKER)
            if start < 0:
                # keep a trailing 0xA5: it may be the first half of the next marker
                keep = 1 if buf[-1:] == MARKER[:1] else 0
                self._skip(len(buf) - keep)
                break
            self._skip(start)
            if len(buf) < 5:
                break
            kind, length = _HEADER.unpack_from(buf, 2)
            if length > MAX_PAYLOAD:
                self._drop_one()
                continue
            end = 5 + length + 2
            if len(buf) < end:
                break
            (crc,) = struct.unpack_from("<H", buf, 5 + length)
            if crc != crc16_ccitt_false(bytes(buf[2 : 5 + length])):
                self.bad_crc += 1
                self._drop_one()
                continue
            payload = bytes(buf[5 : 5 + length])
            del buf[:end]
            self._in_sync = True
            decoder = _DECODERS.get(kind)
            if decoder is None:
                self.unknown += 1
                continue
            try:
                out.append(decoder.decode(payload))
            except ProtocolError:
                self.unknown += 1
        return out

    def _skip(self, n: int) -> None:
        """Drop ``n`` bytes that are not a frame; the first of a run is a resync."""
        if n <= 0:
            return
        del self._buf[:n]
        self.skipped += n
        if self._in_sync:
            self.resyncs += 1
            self._in_sync = False

    def _drop_one(self) -> None:
        self._skip(1)


__all__ = [
    "COUNTERS",
    "DONE",
    "HELLO",
    "MARKER",
    "RESULT",
    "SAMPLES",
    "SOURCES",
    "STREAM",
    "Done",
    "FrameDecoder",
    "Hello",
    "Message",
    "ProtocolError",
    "Result",
    "Samples",
    "Stream",
    "capture_block",
    "crc16_ccitt_false",
    "encode_frame",
    "max_rate_hz",
]
