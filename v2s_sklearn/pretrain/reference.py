"""A small sample of a source model's logits on held-out source clips.

Theorem 1 of Voice2Series compares the source model's logits on reprogrammed
target data with its logits on *source* data
(:func:`v2s_sklearn.diagnostics.wasserstein_alignment`). Source clips cannot be
shipped or downloaded, but a few hundred rows of logits can: this module
computes them on clips of the corpus's ``test`` speakers (voices no model saw
in training), stratified by word, and writes them beside the checkpoint as
``<checkpoint>.reference.npy``; :func:`v2s_sklearn.acoustic.checkpoint.publish_checkpoint`
ships the file with the weights and lists its sha256 in the manifest.

    python -m v2s_sklearn.pretrain.reference --checkpoint artifacts/pretrain/m.pt \
        --corpus-dir corpus/synth3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from .corpus import Corpus

#: Clips per word in the reference sample: 35 words x 20 = 700 rows of 35 float32
#: logits, 98 KB, grouped by word in ``WORDS`` order.
PER_WORD = 20


def reference_path(checkpoint: str | Path) -> Path:
    """Where the reference sample of ``checkpoint`` lives: ``<checkpoint>.reference.npy``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name + ".reference.npy")


def reference_clips(corpus: Corpus, per_word: int = PER_WORD, seed: int = 0,
                    split: str = "test") -> np.ndarray:
    """Indices of ``per_word`` clips of every word among the ``split`` speakers' clips,
    grouped by word in ``WORDS`` order (so row ``i`` of the sample is word
    ``i // per_word`` when every word has enough clips)."""
    rng = np.random.default_rng(seed)
    held_out = np.flatnonzero(corpus.splits == split)
    picked = [np.sort(rng.choice(rows, size=min(per_word, len(rows)), replace=False))
              for word in np.unique(corpus.labels[held_out])
              for rows in [held_out[corpus.labels[held_out] == word]]]
    return np.concatenate(picked)


@torch.inference_mode()
def reference_outputs(model: torch.nn.Module, corpus: Corpus, per_word: int = PER_WORD,
                      seed: int = 0, batch_size: int = 128) -> np.ndarray:
    """Logits of ``model`` on the reference clips of ``corpus``, float32 ``(n, K)``."""
    model.eval()
    rows = reference_clips(corpus, per_word, seed)
    logits = []
    for start in range(0, len(rows), batch_size):
        # Sorted reads from the memory-mapped corpus, put back in sample order.
        chunk = rows[start : start + batch_size]
        order = np.argsort(chunk)
        audio = np.empty((len(chunk), corpus.audio.shape[1]), dtype=np.float32)
        audio[order] = corpus.audio[chunk[order]]
        logits.append(model(torch.from_numpy(audio / 32768.0)).float().numpy())
    return np.concatenate(logits).astype(np.float32)


def write_reference(checkpoint: str | Path, corpus: Corpus, per_word: int = PER_WORD,
                    seed: int = 0) -> Path:
    """Compute the reference sample of the checkpoint and save it beside it."""
    from ..acoustic.checkpoint import load_checkpoint

    outputs = reference_outputs(load_checkpoint(checkpoint), corpus, per_word, seed)
    path = reference_path(checkpoint)
    np.save(path, outputs)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a v2s acoustic-model checkpoint")
    parser.add_argument("--corpus-dir", required=True, help="corpus folder (audio.npy, meta.csv)")
    parser.add_argument("--per-word", type=int, default=PER_WORD)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = write_reference(args.checkpoint, Corpus.load(Path(args.corpus_dir)), args.per_word,
                           args.seed)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
