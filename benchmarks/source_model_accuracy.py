"""Accuracy of acoustic models on held-out speakers and on real Speech Commands clips.

Scores each model on the ``test`` split of a corpus made by ``v2s pretrain``
(speakers no model was trained or selected on), per voice, and on the real
clips of a Speech Commands sample, side by side in one table. Nothing here
trains or chooses anything; the numbers are read once.

    python benchmarks/source_model_accuracy.py --corpus-dir corpus/synth2 \\
        --real-clips ../shared/data/speech_commands_sample \\
        --models v2sa-synth,artifacts/pretrain/v2sa_synth2.pt

A model is a built-in name (``v2s models`` lists them) or a checkpoint path.
"""

from __future__ import annotations

import argparse
import json
import sys

from v2s_sklearn.acoustic.registry import load_acoustic_model
from v2s_sklearn.pretrain.corpus import Corpus
from v2s_sklearn.pretrain.train import accuracy_by_voice, evaluate, load_real_clips, predict_words


def score(model_name: str, test: Corpus | None, real_clips: str | None) -> dict:
    """Overall and per-voice test accuracy and real-clip accuracy of one model."""
    model = load_acoustic_model(model_name, optimize=False)
    row: dict = {"model": model_name}
    if test is not None:
        predictions = predict_words(model, test.audio)  # scored once, then grouped
        row["test_accuracy"] = float((predictions == test.labels).mean())
        row["by_voice"] = accuracy_by_voice(predictions, test)
        row["n_test"] = int(len(test.labels))
    if real_clips is not None:
        audio, labels = load_real_clips(real_clips)
        row["real_clip_accuracy"] = evaluate(model, audio, labels)
        row["n_real"] = int(len(labels))
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="v2sa-synth",
                        help="comma-separated built-in names or checkpoint paths")
    parser.add_argument("--corpus-dir", default=None,
                        help="corpus folder (audio.npy, meta.csv); its test split is scored")
    parser.add_argument("--real-clips", default=None,
                        help="folder with val_audios.npy / val_cmds.npy")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args(argv)
    if args.corpus_dir is None and args.real_clips is None:
        parser.error("give --corpus-dir, --real-clips or both")
    test = Corpus.load(args.corpus_dir).subset("test") if args.corpus_dir else None
    rows = [score(name, test, args.real_clips) for name in args.models.split(",")]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return
    voices = sorted({v for row in rows for v in row.get("by_voice", {})})
    header = ["model", "test (all)", *voices, "real clips"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        cells = [row["model"], f"{row.get('test_accuracy', float('nan')):.1%}",
                 *(f"{row.get('by_voice', {}).get(v, float('nan')):.1%}" for v in voices),
                 f"{row.get('real_clip_accuracy', float('nan')):.1%}"]
        print("| " + " | ".join(cells) + " |")
    if test is not None:
        print(f"\ntest clips: {len(test.labels)} from {len(set(test.speakers))} held-out speakers")


if __name__ == "__main__":
    main()
