"""Speech-command corpora as arrays: the 35 GSC v2 words, clips, speakers, splits.

A corpus is a folder holding ``audio.npy`` (int16, ``(n_clips, 16000)``, one
second at 16 kHz, the spoken word centred) and ``meta.csv`` (one row per clip:
``word``, ``engine``, ``speaker``, ``split``). Splits are by speaker, so no
voice is in two of ``train``, ``valid`` and ``test``.
"""

from __future__ import annotations

import csv
import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000

#: The 35 words of Google Speech Commands v2, in the conventional sorted order.
WORDS: tuple[str, ...] = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow",
    "forward", "four", "go", "happy", "house", "learn", "left", "marvin", "nine",
    "no", "off", "on", "one", "right", "seven", "sheila", "six", "stop", "three",
    "tree", "two", "up", "visual", "wow", "yes", "zero",
)  # fmt: skip


@dataclass
class Corpus:
    """Clips with their word index, engine, speaker and split."""

    audio: np.ndarray  # int16 (n, CLIP_SAMPLES)
    labels: np.ndarray  # int64 (n,) indices into WORDS
    engines: np.ndarray  # str (n,)
    speakers: np.ndarray  # str (n,)
    splits: np.ndarray  # str (n,) train / valid / test

    def subset(self, split: str) -> "Corpus":
        keep = self.splits == split
        return Corpus(*(a[keep] for a in (self.audio, self.labels, self.engines,
                                          self.speakers, self.splits)))

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "audio.npy", self.audio)
        with open(folder / "meta.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["word", "engine", "speaker", "split"])
            for row in zip(self.labels, self.engines, self.speakers, self.splits):
                writer.writerow([WORDS[row[0]], *row[1:]])

    @classmethod
    def load(cls, folder: Path) -> "Corpus":
        folder = Path(folder)
        audio = np.load(folder / "audio.npy", mmap_mode="r")
        with open(folder / "meta.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        index = {word: i for i, word in enumerate(WORDS)}
        return cls(
            audio=np.asarray(audio),
            labels=np.array([index[r["word"]] for r in rows], dtype=np.int64),
            engines=np.array([r["engine"] for r in rows]),
            speakers=np.array([r["speaker"] for r in rows]),
            splits=np.array([r["split"] for r in rows]),
        )


def fit_to_clip(samples: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Trim silence and centre a float waveform in one second (int16).

    Words longer than a second keep their central second.
    """
    samples = np.asarray(samples, dtype=np.float64)
    loud = np.flatnonzero(np.abs(samples) > threshold * max(np.abs(samples).max(), 1e-9))
    if loud.size:
        samples = samples[loud[0] : loud[-1] + 1]
    if samples.size > CLIP_SAMPLES:
        start = (samples.size - CLIP_SAMPLES) // 2
        samples = samples[start : start + CLIP_SAMPLES]
    clip = np.zeros(CLIP_SAMPLES)
    start = (CLIP_SAMPLES - samples.size) // 2
    clip[start : start + samples.size] = samples
    peak = np.abs(clip).max()
    if peak > 0:
        clip = clip / peak * 0.9
    return (clip * 32767).astype(np.int16)


def read_wav(path: Path) -> np.ndarray:
    """Read a PCM wav file as float samples at 16 kHz (mono)."""
    with wave.open(str(path), "rb") as handle:
        rate = handle.getframerate()
        width = handle.getsampwidth()
        channels = handle.getnchannels()
        frames = handle.readframes(handle.getnframes())
    if width != 2:
        raise ValueError(f"{path}: only 16-bit PCM wav files are supported")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(SAMPLE_RATE, rate)
        samples = resample_poly(samples, SAMPLE_RATE // g, rate // g)
    return samples


def speaker_split(speaker: str, valid_percent: float = 10, test_percent: float = 10) -> str:
    """Assign a speaker to a split by a stable hash of its name (GSC's own rule)."""
    bucket = int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 10000 / 100
    if bucket < valid_percent:
        return "valid"
    if bucket < valid_percent + test_percent:
        return "test"
    return "train"


def load_gsc_folder(root: Path) -> Corpus:
    """Read a Speech Commands folder (``WORD/SPEAKER_nohash_N.wav``) from disk.

    Only the 35 command words are read (``_background_noise_`` and any other
    folder are skipped). Splits follow ``validation_list.txt`` and
    ``testing_list.txt`` when present, else a hash of the speaker id, so a
    speaker never falls into two splits. Nothing is downloaded.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no Speech Commands folder at {root}")
    listed: dict[str, str] = {}
    for split, name in (("valid", "validation_list.txt"), ("test", "testing_list.txt")):
        if (root / name).exists():
            for line in (root / name).read_text().split():
                listed[line.strip()] = split
    audio, labels, speakers, splits = [], [], [], []
    for index, word in enumerate(WORDS):
        for path in sorted((root / word).glob("*.wav")):
            relative = f"{word}/{path.name}"
            speaker = path.name.split("_nohash_")[0]
            if listed:
                split = listed.get(relative, "train")
            else:
                split = speaker_split(speaker)
            audio.append(fit_to_clip(read_wav(path), threshold=0.0))
            labels.append(index)
            speakers.append(speaker)
            splits.append(split)
    if not audio:
        raise ValueError(
            f"{root} holds no WORD/*.wav clips of the 35 Speech Commands words"
        )
    return Corpus(
        audio=np.stack(audio),
        labels=np.array(labels, dtype=np.int64),
        engines=np.array(["gsc"] * len(audio)),
        speakers=np.array(speakers),
        splits=np.array(splits),
    )
