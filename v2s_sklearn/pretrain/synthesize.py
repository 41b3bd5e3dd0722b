"""Synthesize a speech-commands corpus with the text-to-speech engines Debian ships.

Engines and voices: espeak-ng (7 English accents x its ~100 voice variants),
flite (kal, kal16, awb, rms, slt), festival (kal_diphone, ked_diphone,
cmu_us_slt_arctic_hts) and, optionally, SVOX Pico (two female English voices,
en-US and en-GB, from the ``ttspico`` package on PyPI, which ships them).
Install them with::

    apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
    pip install ttspico   # optional: the "pico" engine

Each clip is one word at a random speaking rate and pitch, trimmed, centred in
one second at 16 kHz. Splits are by speaker: an espeak-ng variant (all its
accents) or a flite/festival speaker is in exactly one of train/valid/test.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .corpus import WORDS, Corpus, fit_to_clip, read_wav

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan",
                  "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029")  # fmt: skip
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
PICO_VOICES = ("en-US", "en-GB")  # speakers lh0 and kh0, both female
# Speakers held out of training: the same person may sit behind two engines.
SPEAKER_OF = {"kal": "kal", "kal16": "kal", "kal_diphone": "kal", "awb": "awb",
              "rms": "rms", "slt": "slt", "cmu_us_slt_arctic_hts": "slt",
              "ked_diphone": "ked", "en-US": "pico-lh0", "en-GB": "pico-kh0"}  # fmt: skip
FIXED_SPLIT = {"kal": "train", "rms": "train", "awb": "train", "ked": "valid",
               "slt": "test", "pico-lh0": "train", "pico-kh0": "train"}  # fmt: skip
# Mean f0 (Hz) each natural voice speaks at by default; prosody scales it.
BASE_F0 = {"kal": 105.0, "awb": 110.0, "rms": 100.0, "ked": 110.0, "slt": 170.0}
# Relative pitch ranges. The only female natural voice (slt) is held out for
# testing, so the male natural voices also speak at female pitch (up to ~230 Hz)
# to let the model meet natural-sounding high voices in training. The
# validation speaker ked is widened too, so selection sees the same mix.
PITCH_RANGE = {"default": (0.6, 1.5), "male_natural": (0.6, 2.2)}
MALE_NATURAL = {"kal", "awb", "rms", "ked"}
# Clips per voice and word for held-out (valid/test) speakers: fixed, so the
# test set keeps its size and mix when training data grows.
HELD_OUT_CLIPS = {"espeak-ng": 2, "flite": 40, "festival": 25, "pico": 40}

INSTALL_HINT = (
    "apt-get install espeak-ng flite festival festvox-kallpc16k "
    "festvox-kdlpc16k festvox-us-slt-hts; pip install ttspico (for the pico engine)"
)
_pico_engines = threading.local()  # one Pico engine per worker thread and voice


def _pico_speak(voice: str, word: str, rate: float, pitch: float) -> np.ndarray:
    """Synthesize ``word`` with SVOX Pico (16 kHz, 16-bit mono) as float samples."""
    import ttspico

    if not hasattr(_pico_engines, "by_voice"):
        _pico_engines.by_voice = {}
    engines = _pico_engines.by_voice
    if voice not in engines:
        engines[voice] = ttspico.TtsEngine(voice)
    engine = engines[voice]
    engine.rate = int(round(100 * rate))    # percent of the default speed
    engine.pitch = int(round(100 * pitch))  # percent of the default pitch
    chunks: list[bytes] = []
    engine.speak(word, lambda fmt, audio, fin: chunks.append(audio) or True)
    return np.frombuffer(b"".join(chunks), dtype="<i2").astype(np.float64) / 32768.0


@dataclass(frozen=True)
class Job:
    """One clip to synthesize."""

    engine: str
    voice: str
    speaker: str
    word: str
    rate: float  # relative speaking rate, 1 = engine default
    pitch: float  # relative pitch, 1 = engine default


def espeak_variants() -> list[str]:
    """Names of espeak-ng's voice variants (``+f3``, ``+klatt``...), sorted."""
    output = subprocess.run(
        ["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True
    ).stdout
    # The File column ("!v/NAME") ends each line; a name with a space
    # ("Mr serious") is not addressable on the command line, so it is left out.
    names = []
    for line in output.splitlines()[1:]:
        tokens = line.split()
        if tokens and tokens[-1].startswith("!v/") and not tokens[-2].startswith("!v/"):
            names.append(tokens[-1][3:])
    return sorted(set(names))


def _run(command: list[str], stdin: str | None = None) -> None:
    subprocess.run(command, input=stdin, capture_output=True, text=True, check=True,
                   timeout=60)


def synthesize_job(job: Job, workdir: Path) -> np.ndarray:
    """Run one engine for one word; return the int16 one-second clip."""
    if job.engine == "pico":  # in-process: no wav file
        return fit_to_clip(_pico_speak(job.voice, job.word, job.rate, job.pitch))
    out = workdir / f"{uuid.uuid4().hex}.wav"
    if job.engine == "espeak-ng":
        accent, variant = job.voice.split("+")
        _run(["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(int(175 * job.rate)),
              "-p", str(int(np.clip(50 * job.pitch, 0, 99))), "-w", str(out), job.word])
    elif job.engine == "flite":
        f0 = BASE_F0[SPEAKER_OF[job.voice]] * job.pitch
        _run(["flite", "-voice", job.voice, "-t", job.word, "-o", str(out),
              "--setf", f"duration_stretch={1 / job.rate:.3f}",
              "--setf", f"int_f0_target_mean={f0:.1f}"])
    elif job.engine == "festival":
        # Diphone voices take their mean f0 from int_lr_params; HTS voices ignore it.
        f0 = BASE_F0[SPEAKER_OF[job.voice]] * job.pitch
        _run(["text2wave", "-eval", f"(voice_{job.voice})",
              "-eval", f"(Parameter.set 'Duration_Stretch {1 / job.rate:.3f})",
              "-eval", f"(set! int_lr_params '((target_f0_mean {f0:.1f}) "
                       "(target_f0_std 30) (model_f0_mean 170) (model_f0_std 34)))",
              "-o", str(out)], stdin=job.word)
    else:
        raise ValueError(f"unknown engine {job.engine!r}")
    try:
        return fit_to_clip(read_wav(out))
    finally:
        out.unlink(missing_ok=True)


def plan_jobs(
    clips_per_espeak_voice: int = 2,
    clips_per_flite_voice: int = 40,
    clips_per_festival_voice: int = 25,
    held_out_clips: dict[str, int] | None = None,
    clips_per_pico_voice: int = 40,
    engines: Iterable[str] = ("espeak-ng", "flite", "festival"),
    variants: list[str] | None = None,
    words: Iterable[str] = WORDS,
    seed: int = 0,
) -> tuple[list[Job], dict[str, str]]:
    """Every clip to make, and the split of every speaker.

    ``clips_per_*`` count clips per voice and word for training speakers;
    held-out speakers get ``held_out_clips[engine]``, which updates
    ``HELD_OUT_CLIPS`` (a ``None`` value gives that engine the training count).
    Festival diphone voices speak with an f0 standard deviation of 30 Hz
    around the scaled mean.
    """
    rng = np.random.default_rng(seed)
    held_out = {**HELD_OUT_CLIPS, **(held_out_clips or {})}
    jobs: list[Job] = []
    split_of: dict[str, str] = dict(FIXED_SPLIT)
    engines = set(engines)
    words = list(words)

    def prosody(n: int, engine: str, voice: str, speaker: str) -> None:
        if split_of[speaker] != "train" and held_out.get(engine) is not None:
            n = held_out[engine]
        widened = speaker in MALE_NATURAL
        low, high = PITCH_RANGE["male_natural" if widened else "default"]
        for word in words:
            for _ in range(n):
                rate = float(rng.uniform(0.7, 1.35))
                # Log-uniform over the widened range (almost two octaves), so each
                # octave gets about the same share of clips.
                pitch = (np.exp(rng.uniform(np.log(low), np.log(high))) if widened
                         else rng.uniform(low, high))
                jobs.append(Job(engine, voice, speaker, word, rate=rate, pitch=float(pitch)))

    if "espeak-ng" in engines:
        variants = espeak_variants() if variants is None else variants
        order = rng.permutation(len(variants))
        n_held = max(1, len(variants) // 10)
        for rank, i in enumerate(order):
            speaker = f"espeak:{variants[i]}"
            split_of[speaker] = ("valid" if rank < n_held else
                                 "test" if rank < 2 * n_held else "train")
            for accent in ESPEAK_ACCENTS:
                prosody(clips_per_espeak_voice, "espeak-ng", f"{accent}+{variants[i]}",
                        speaker)
    if "flite" in engines:
        for voice in FLITE_VOICES:
            prosody(clips_per_flite_voice, "flite", voice, SPEAKER_OF[voice])
    if "festival" in engines:
        for voice in FESTIVAL_VOICES:
            prosody(clips_per_festival_voice, "festival", voice, SPEAKER_OF[voice])
    if "pico" in engines:
        for voice in PICO_VOICES:
            prosody(clips_per_pico_voice, "pico", voice, SPEAKER_OF[voice])
    return jobs, split_of


def check_engines(engines: Iterable[str]) -> None:
    """Fail early, saying what to install, when an engine is missing."""
    binaries = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}

    def available(engine: str) -> bool:
        if engine == "pico":  # a Python package, not a program
            return importlib.util.find_spec("ttspico") is not None
        return shutil.which(binaries[engine]) is not None

    missing = [e for e in engines if not available(e)]
    if missing:
        raise RuntimeError(f"text-to-speech engine(s) {missing} not found; {INSTALL_HINT}")


def synthesize_corpus(
    jobs: list[Job],
    split_of: dict[str, str],
    n_workers: int = 4,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> Corpus:
    """Run all jobs (engines are separate processes, so threads suffice)."""
    check_engines({job.engine for job in jobs})
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(n_workers) as pool:
        results = pool.map(lambda job: synthesize_job(job, Path(tmp)), jobs)
        if progress is not None:
            results = progress(results, total=len(jobs))
        audio = np.stack(list(results))
    index = {word: i for i, word in enumerate(WORDS)}
    return Corpus(
        audio=audio,
        labels=np.array([index[j.word] for j in jobs], dtype=np.int64),
        engines=np.array([j.engine for j in jobs]),
        speakers=np.array([j.speaker for j in jobs]),
        splits=np.array([split_of[j.speaker] for j in jobs]),
    )
