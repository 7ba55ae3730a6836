"""Synthesise the keyword data set in data/ with espeak-ng (and numpy/scipy).

This is how data/ was made; it is kept so the data can be checked and repeated:

    apt-get install -y espeak-ng          # Debian/Ubuntu; the data was made with 1.51
    .venv/bin/python examples/keywords/make_data.py

Four words ("yes", "no", "up", "down") and a `_silence` class (background noise only),
one folder per class, one 1 s, 16 kHz, mono, 16-bit PCM WAV file per utterance:

* each utterance is spoken by espeak-ng with one voice (language variant and voice
  variant, e.g. ``en-us+f3``), pitch ``-p``, speed ``-s`` and amplitude ``-a``;
* espeak-ng writes 22050 Hz; the audio is resampled to 16 kHz with a polyphase filter
  (``scipy.signal.resample_poly``, up 320 / down 441), the leading and trailing
  silence is trimmed, and the word is placed at a seeded offset in a 1 s window;
* seeded background noise (white, brown or mains hum, at a seeded level) is added,
  and the sum is rounded to 16 bits.

The file name encodes the variant: ``{split}_{voice}_p{pitch}_s{speed}_a{amp}.wav`` for
words and ``{split}_{noise}{k}.wav`` for silence. Voices are split: five voices only in
``train_*`` files, two others only in ``test_*`` files, so the test set measures how
the model does on voices it never heard. Every random choice is seeded by the file's
own path, so the same script makes the same bytes, also when asked for a subset;
espeak-ng's own noise (breathy voices) is made repeatable with its ``-D`` option where
it has one (1.52 and later; see :func:`deterministic_flag`).
"""

from __future__ import annotations

import argparse
import functools
import io
import re
import shutil
import subprocess
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ESPEAK_VERSION = "1.51"  # the data in data/ was made with this espeak-ng
RATE = 16000  # Hz, what the spec says
ESPEAK_RATE = 22050  # Hz, what espeak-ng writes
LENGTH = RATE  # 1 s
WORDS = ("yes", "no", "up", "down")
SILENCE = "_silence"
TRAIN_VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb+m3", "en-029")
TEST_VOICES = ("en-gb-scotland", "en-us+f4")
VARIANTS_PER_VOICE = 2
NOISES = ("white", "brown", "hum")
SILENCE_PER_NOISE = {"train": 2, "test": 1}  # per noise kind: 6 train, 3 test files


@dataclass(frozen=True)
class Utterance:
    """One file to write: ``word`` is a word or ``_silence`` (then ``voice`` is None)."""

    split: str
    word: str
    voice: str | None
    pitch: int = 0
    speed: int = 0
    amplitude: int = 0
    noise: str = "white"
    index: int = 0

    @property
    def path(self) -> str:
        """Relative path: ``word/split_...wav``; also the seed of every random choice."""
        if self.voice is None:
            return f"{self.word}/{self.split}_{self.noise}{self.index}.wav"
        return (
            f"{self.word}/{self.split}_{self.voice}_p{self.pitch}_s{self.speed}"
            f"_a{self.amplitude}.wav"
        )


def _rng(*key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(key).encode()))


def plan() -> list[Utterance]:
    """Every utterance of the data set, in a fixed order."""
    out: list[Utterance] = []
    for word in WORDS:
        for split, voices in (("train", TRAIN_VOICES), ("test", TEST_VOICES)):
            for voice in voices:
                rng = _rng(word, voice)
                pitches = rng.choice(np.arange(25, 80, 5), VARIANTS_PER_VOICE, replace=False)
                speeds = rng.choice(np.arange(130, 200, 10), VARIANTS_PER_VOICE, replace=False)
                amps = rng.choice(np.arange(60, 170, 20), VARIANTS_PER_VOICE, replace=False)
                for p, s, a in zip(pitches, speeds, amps, strict=True):
                    out.append(Utterance(split, word, voice, int(p), int(s), int(a)))
    for split, n in SILENCE_PER_NOISE.items():
        for noise in NOISES:
            out += [Utterance(split, SILENCE, None, noise=noise, index=k) for k in range(n)]
    return out


@functools.cache
def deterministic_flag() -> list[str]:
    """``["-D"]`` when this espeak-ng has a deterministic mode, else ``[]``.

    Voices with breath or a Klatt source (``+f3``, ``+f4``, …) add noise from espeak-ng's
    random generator. Up to 1.51 that is libc's ``rand()``, never seeded: every run of
    the program draws the same numbers. From 1.52 espeak-ng seeds its own generator
    from the clock unless ``-D`` ("deterministic random mode": a fixed seed) is given,
    so two runs speak the same word with different noise. 1.51 has no ``-D`` (it would
    stop at the unknown option), hence the check of its help text.
    """
    usage = subprocess.run(["espeak-ng", "--help"], capture_output=True, text=True).stdout
    return ["-D"] if re.search(r"^-D\b", usage, re.M) else []


def speak(u: Utterance) -> np.ndarray:
    """espeak-ng's 22050 Hz output for ``u``, as float64 in [-1, 1)."""
    assert u.voice is not None
    cmd = ["espeak-ng", *deterministic_flag(), "-v", u.voice, "-p", str(u.pitch)]
    cmd += ["-s", str(u.speed)]
    cmd += ["-a", str(u.amplitude), "--stdout", u.word]
    wav = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        if w.getframerate() != ESPEAK_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise RuntimeError(f"espeak-ng wrote unexpected audio for {u.path}")
        frames = w.readframes(w.getnframes())
    return np.frombuffer(frames, "<i2").astype(np.float64) / 32768.0


def place(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Trim silence (|x| < 1 % of the peak) and put the rest at a seeded offset in 1 s."""
    loud = np.flatnonzero(np.abs(speech) > 0.01 * np.abs(speech).max())
    word = speech[loud[0] : loud[-1] + 1]
    if len(word) > LENGTH:  # a very slow voice: keep the middle second
        start = (len(word) - LENGTH) // 2
        word = word[start : start + LENGTH]
    out = np.zeros(LENGTH)
    margin = min(RATE // 20, (LENGTH - len(word)) // 2)  # 50 ms when it fits
    offset = int(rng.integers(margin, LENGTH - len(word) - margin + 1))
    out[offset : offset + len(word)] = word
    return out


def background(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One second of seeded background noise: white, brown (integrated) or mains hum."""
    level = float(rng.uniform(0.002, 0.02))
    if kind == "white":
        x = rng.normal(0.0, 1.0, LENGTH)
    elif kind == "brown":
        x = np.cumsum(rng.normal(0.0, 1.0, LENGTH))
        x -= np.linspace(x[0], x[-1], LENGTH)  # no drift
    else:
        t = np.arange(LENGTH) / RATE
        mains = float(rng.choice([50.0, 60.0]))
        phase = rng.uniform(0.0, 2 * np.pi, 3)
        x = sum(
            np.sin(2 * np.pi * mains * h * t + ph) / h
            for h, ph in zip((1, 2, 3), phase, strict=True)
        )
        x = x + 0.3 * rng.normal(0.0, 1.0, LENGTH)
    return level * x / (np.std(x) or 1.0)


def render(u: Utterance) -> np.ndarray:
    """The 16-bit samples of ``u``."""
    rng = _rng(u.path)
    if u.voice is None:
        audio = background(u.noise, rng)
    else:
        speech = resample_poly(speak(u), RATE // 50, ESPEAK_RATE // 50)  # 320 / 441
        noise = str(rng.choice(NOISES))
        audio = place(speech, rng) + background(noise, rng)
    pcm: np.ndarray = np.clip(np.round(audio * 32768.0), -32768, 32767).astype("<i2")
    return pcm


def write_wav(path: Path, pcm: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def make(out: Path, only: list[str] | None = None) -> list[Path]:
    """Write the data set (or the utterances whose path contains one of ``only``)."""
    written = []
    for u in plan():
        if only is not None and not any(s in u.path for s in only):
            continue
        write_wav(out / u.path, render(u))
        written.append(out / u.path)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data")
    ap.add_argument("--only", action="append", help="only paths containing this (repeatable)")
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed: apt-get install -y espeak-ng")
    if args.only is None and args.out.exists():
        shutil.rmtree(args.out)
    files = make(args.out, args.only)
    size = sum(p.stat().st_size for p in files)
    print(f"{args.out}: {len(files)} files, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
