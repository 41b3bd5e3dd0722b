"""Smoke tests of the pretraining recipe on a handful of clips (never a full run)."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from v2s_sklearn import load_acoustic_model
from v2s_sklearn.cli import main as v2s
from v2s_sklearn.pretrain.augment import augment_batch, spec_augment
from v2s_sklearn.pretrain.corpus import WORDS, Corpus, fit_to_clip, load_gsc_folder
from v2s_sklearn.pretrain.train import load_real_clips


def test_gsc_folder_is_read_with_speaker_disjoint_splits(gsc_folder):
    corpus = load_gsc_folder(gsc_folder)
    assert corpus.audio.shape == (16, 16000) and corpus.audio.dtype == np.int16
    assert set(corpus.labels) == {WORDS.index("yes"), WORDS.index("no")}
    speakers = {s: set(corpus.speakers[corpus.splits == s]) for s in ("train", "valid", "test")}
    assert speakers == {"train": {"aaaa1111", "bbbb2222"}, "valid": {"cccc3333"},
                        "test": {"dddd4444"}}


def test_pretrain_on_a_gsc_folder_end_to_end(gsc_folder, tmp_path, capsys):
    output = tmp_path / "model.pt"
    v2s(["pretrain", "--gsc-dir", str(gsc_folder), "--epochs", "1", "--batch-size", "4",
         "--output", str(output), "--metrics", str(tmp_path / "metrics.json")])
    model = load_acoustic_model(output)
    assert model.class_names == list(WORDS)
    assert '"test_accuracy"' in capsys.readouterr().out
    assert (tmp_path / "metrics.json").exists()


@pytest.mark.skipif(shutil.which("espeak-ng") is None,
                    reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_synthesized_corpus_round_trip(tmp_path):
    from v2s_sklearn.pretrain.synthesize import plan_jobs, synthesize_corpus

    jobs, split_of = plan_jobs(clips_per_espeak_voice=1, engines=["espeak-ng"],
                               variants=["f1", "m3", "klatt"], words=["yes", "sheila"])
    corpus = synthesize_corpus(jobs, split_of, n_workers=2)
    # variants x accents x words, held-out variants at the fixed held-out count (2)
    per_split = {s: int((corpus.splits == s).sum()) for s in ("train", "valid", "test")}
    assert per_split == {"train": 7 * 2, "valid": 7 * 2 * 2, "test": 7 * 2 * 2}
    assert (np.abs(corpus.audio).max(axis=1) > 1000).all()  # every clip holds speech
    by_split = {s: set(corpus.speakers[corpus.splits == s]) for s in ("train", "valid", "test")}
    assert sum(len(v) for v in by_split.values()) == 3  # each variant in exactly one split
    corpus.save(tmp_path / "corpus")
    again = Corpus.load(tmp_path / "corpus")
    np.testing.assert_array_equal(again.audio, corpus.audio)
    np.testing.assert_array_equal(again.splits, corpus.splits)


def test_fit_to_clip_trims_and_centres():
    word = np.r_[np.zeros(3000), 0.5 * np.ones(4000), np.zeros(20000)]
    clip = fit_to_clip(word)
    loud = np.flatnonzero(clip)
    assert clip.shape == (16000,) and len(loud) == 4000
    assert loud[0] == 6000  # (16000 - 4000) / 2


def test_corrupt_real_clips_are_dropped(tmp_path):
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 16000))
    audio[1, 10] = np.nan
    audio[3, 20:30] = 1e307
    np.save(tmp_path / "val_audios.npy", audio)
    np.save(tmp_path / "val_cmds.npy", np.array([2, 3, 4, 5]))
    clips, labels = load_real_clips(tmp_path)
    assert clips.shape == (2, 16000)
    assert [WORDS[i] for i in labels] == ["yes", "up"]


def test_augmentation_keeps_shape_and_range():
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 16000) * 0.2
    out = augment_batch(x, g)
    assert out.shape == x.shape and out.abs().max() <= 1.0 and not torch.equal(out, x)
    features = spec_augment(torch.ones(6, 126, 80), g)
    assert features.shape == (6, 126, 80) and (features == 0).any()


def test_plan_jobs_gives_held_out_speakers_fixed_counts_and_one_split_each():
    from v2s_sklearn.pretrain.synthesize import HELD_OUT_CLIPS, PITCH_RANGE, SPEAKER_OF, plan_jobs

    variants = [f"v{i}" for i in range(20)]  # no engine is run: only the plan
    jobs, split_of = plan_jobs(clips_per_espeak_voice=1, clips_per_flite_voice=3,
                               clips_per_festival_voice=2, clips_per_pico_voice=4,
                               variants=variants, words=["yes", "no"],
                               engines=["espeak-ng", "flite", "festival", "pico"],
                               held_out_clips={"flite": 5})
    counts: dict = {}
    for job in jobs:
        key = (job.engine, job.voice, job.speaker)
        counts[key] = counts.get(key, 0) + 1
        assert job.speaker in split_of  # every clip's speaker has exactly one split
    expected_train = {"espeak-ng": 1, "flite": 3, "festival": 2, "pico": 4}
    held_out = {**HELD_OUT_CLIPS, "flite": 5}
    for (engine, voice, speaker), n in counts.items():
        assert engine == "espeak-ng" or SPEAKER_OF[voice] == speaker
        per_word = expected_train[engine] if split_of[speaker] == "train" else held_out[engine]
        assert n == 2 * per_word, (engine, voice)
    assert split_of["slt"] == "test" and split_of["awb"] == "train"
    assert {j.speaker for j in jobs if j.engine == "pico"} == {"pico-lh0", "pico-kh0"}
    assert {split_of[f"espeak:{v}"] for v in variants} == {"train", "valid", "test"}
    low, high = PITCH_RANGE["male_natural"]
    kal = [j.pitch for j in jobs if j.speaker == "kal"]
    slt = [j.pitch for j in jobs if j.speaker == "slt"]
    assert min(kal) >= low and max(kal) <= high and max(slt) <= PITCH_RANGE["default"][1]


@pytest.mark.skipif(importlib.util.find_spec("ttspico") is None,
                    reason="the optional pico engine is not installed (pip install ttspico)")
def test_pico_voices_synthesize_speech():
    from v2s_sklearn.pretrain.synthesize import plan_jobs, synthesize_corpus

    jobs, split_of = plan_jobs(clips_per_pico_voice=2, engines=["pico"], words=["seven", "off"])
    corpus = synthesize_corpus(jobs, split_of, n_workers=2)
    assert len(corpus.labels) == 2 * 2 * 2  # voices x clips x words
    assert (np.abs(corpus.audio).max(axis=1) > 1000).all()
    assert set(corpus.speakers) == {"pico-lh0", "pico-kh0"} and set(corpus.splits) == {"train"}
