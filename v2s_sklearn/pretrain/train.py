"""Train a speech-command classifier on a corpus and save it as a checkpoint.

The checkpoint kept is the epoch with the best accuracy on the ``valid``
speakers; the ``test`` speakers are scored once, at the end, and never steer
training. Real clips (``--real-clips``) are likewise only reported.
"""

from __future__ import annotations

import inspect
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..acoustic.architectures import ARCHITECTURES
from ..acoustic.checkpoint import save_checkpoint
from .augment import augment_batch, spec_augment
from .corpus import WORDS, Corpus


@dataclass
class TrainConfig:
    """Hyperparameters of the pretraining run (all recorded in the checkpoint)."""

    architecture: str = "attrnn"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    augment: bool = True
    seed: int = 0
    threads: int = 2
    # Size of the network, passed to its constructor and kept in the checkpoint;
    # None keeps the architecture's own default.
    n_mels: int | None = None
    channels: tuple[int, ...] | None = None


def _int16_to_float(audio: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(audio, dtype=np.float32) / 32768.0)


@torch.inference_mode()
def predict_words(model: torch.nn.Module, audio: np.ndarray | torch.Tensor,
                  batch_size: int = 256) -> np.ndarray:
    """Predicted word index of every clip (int16 arrays or float tensors)."""
    model.eval()
    predictions = []
    for start in range(0, len(audio), batch_size):
        chunk = audio[start : start + batch_size]
        x = chunk if isinstance(chunk, torch.Tensor) else _int16_to_float(chunk)
        predictions.append(model(x).argmax(1).numpy())
    return np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64)


def evaluate(model: torch.nn.Module, audio: np.ndarray | torch.Tensor, labels: np.ndarray,
             batch_size: int = 256) -> float:
    """Accuracy of ``model`` on clips (int16 arrays or float tensors)."""
    return float(np.mean(predict_words(model, audio, batch_size) == labels)) if len(labels) else 0.0


def accuracy_by_voice(predictions: np.ndarray, corpus: Corpus) -> dict[str, float]:
    """Accuracy of ``predictions`` (one per clip of ``corpus``) per natural TTS speaker;
    espeak-ng variants pooled as ``espeak``, real recordings (``--gsc-dir``) as ``gsc``."""
    groups = np.array(["espeak" if s.startswith("espeak:") else
                       "gsc" if e == "gsc" else str(s)
                       for s, e in zip(corpus.speakers, corpus.engines)])
    correct = predictions == corpus.labels
    return {str(name): float(correct[groups == name].mean()) for name in sorted(set(groups))}


def load_real_clips(folder: str | Path) -> tuple[torch.Tensor, np.ndarray]:
    """Load ``val_audios.npy``/``val_cmds.npy`` (GSC sample), dropping corrupt clips.

    A clip is corrupt when it holds NaN/inf or samples outside [-1, 1]
    (one clip of the shipped sample holds NaN and values near 1e308).
    Label codes 1..35 follow ``shared/README.md``; they are mapped to ``WORDS``.
    """
    folder = Path(folder)
    audio = np.load(folder / "val_audios.npy")
    codes = np.load(folder / "val_cmds.npy").astype(int)
    code_words = ("nine yes no up down left right on off stop go zero one two three "
                  "four five six seven eight backward bed bird cat dog follow forward "
                  "happy house learn marvin sheila tree visual wow").split()
    ok = np.isfinite(audio).all(axis=1) & (np.abs(np.nan_to_num(audio)) <= 1.0).all(axis=1)
    labels = np.array([WORDS.index(code_words[c - 1]) for c in codes[ok]])
    return torch.from_numpy(audio[ok].astype(np.float32)), labels


def model_config_of(config: TrainConfig) -> dict:
    """Constructor arguments of the network ``config`` trains (kept in the checkpoint).

    Raises
    ------
    ValueError
        If ``config`` sets a size the architecture has no parameter for
        (``channels`` on the attention-RNN, say), or a number of channels
        its residual blocks do not have.
    """
    model_config: dict = {"class_names": list(WORDS), "sample_rate": 16000, "input_length": 16000}
    sizes = {"n_mels": config.n_mels,
             "channels": list(config.channels) if config.channels is not None else None}
    accepted = inspect.signature(ARCHITECTURES[config.architecture]).parameters
    for name, value in sizes.items():
        if value is None:
            continue
        if name not in accepted:
            raise ValueError(f"architecture {config.architecture!r} takes no {name!r}; "
                             f"it takes {sorted(accepted)}")
        model_config[name] = value
    strides = accepted.get("strides")
    if config.channels is not None and strides is not None:
        expected = len(strides.default) + 1  # the stem, then one per residual block
        if len(config.channels) != expected:
            raise ValueError(f"architecture {config.architecture!r} takes {expected} channels "
                             f"(the stem's, then one per residual block), got "
                             f"{len(config.channels)}: {list(config.channels)}")
    return model_config


def train_acoustic_model(
    corpus: Corpus,
    output: str | Path,
    config: TrainConfig = TrainConfig(),
    real_clips: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train, keep the best-validation epoch, save to ``output``; return metrics."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    train, valid, test = (corpus.subset(s) for s in ("train", "valid", "test"))
    log(f"clips: train {len(train.labels)}, valid {len(valid.labels)}, test {len(test.labels)}")
    model_config = model_config_of(config)
    model = ARCHITECTURES[config.architecture](**model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    steps_per_epoch = max(1, len(train.labels) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch,
        pct_start=0.15)
    best = {"valid_accuracy": -1.0}
    best_state = None
    history = []
    started = time.time()
    for epoch in range(config.epochs):
        model.train()
        order = rng.permutation(len(train.labels))
        losses = []
        for step in range(steps_per_epoch):
            idx = np.sort(order[step * config.batch_size : (step + 1) * config.batch_size])
            x = _int16_to_float(train.audio[idx])
            y = torch.from_numpy(train.labels[idx])
            if config.augment:
                x = augment_batch(x, g)
            features = model.features(x)
            if config.augment:
                features = spec_augment(features, g)
            loss = F.cross_entropy(model.classify(features), y,
                                   label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        valid_acc = evaluate(model, valid.audio, valid.labels)
        row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
               "valid_accuracy": valid_acc, "minutes": (time.time() - started) / 60}
        history.append(row)
        log(json.dumps(row))
        if valid_acc > best["valid_accuracy"]:
            best = dict(row)
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    test_predictions = predict_words(model, test.audio)  # scored once, then grouped
    metrics = {
        "best_epoch": best["epoch"],
        "valid_accuracy": best["valid_accuracy"],
        "test_accuracy": float(np.mean(test_predictions == test.labels)),
        "test_accuracy_by_voice": accuracy_by_voice(test_predictions, test),
        "train_minutes": (time.time() - started) / 60,
        "n_clips": {s: int((corpus.splits == s).sum()) for s in ("train", "valid", "test")},
        "n_speakers": {s: int(len(set(corpus.speakers[corpus.splits == s])))
                       for s in ("train", "valid", "test")},
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "config": asdict(config),
    }
    if real_clips is not None:
        audio, labels = load_real_clips(real_clips)
        metrics["real_clip_accuracy"] = evaluate(model, audio, labels)
        metrics["real_clip_count"] = int(len(labels))
    metrics["sha256"] = save_checkpoint(model, output, config.architecture, model_config,
                                        metadata={k: v for k, v in metrics.items()
                                                  if k != "config"})
    metrics["history"] = history
    log(json.dumps({k: v for k, v in metrics.items() if k != "history"}))
    return metrics
