"""A tiny, untrained acoustic model for fast interface tests.

``sktime``'s ``check_estimator`` fits a classifier about 170 times; with the
built-in ``v2sa-synth`` model (a two-layer bidirectional LSTM over 126 frames)
that takes minutes on two CPU cores. The test parameter sets of
:class:`v2s_sklearn.sktime.V2STimeSeriesClassifier` therefore use this tiny
attention-RNN (same architecture, 4,000-sample input, 16 mel bands, 8 LSTM
units, 12 source classes, seeded random weights), shipped as a v2s checkpoint
next to this module. It is for interface tests only: it was never trained and
its accuracy means nothing. Accuracy is tested with the built-in model.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .acoustic.architectures import AttRNN
from .acoustic.checkpoint import save_checkpoint

#: The shipped checkpoint of the tiny test model.
TINY_ACOUSTIC_MODEL = Path(__file__).with_name("testing_data") / "tiny_attrnn.pt"

TINY_CONFIG = {"class_names": [f"word{i}" for i in range(12)], "sample_rate": 16000,
               "input_length": 4000, "n_mels": 16, "rnn_units": 8}


def build_tiny_acoustic_model(path: str | Path = TINY_ACOUSTIC_MODEL, seed: int = 0) -> str:
    """Write the tiny test model to ``path`` (how the shipped file was made).

    Parameters
    ----------
    path : str or Path
        Where to write the checkpoint.
    seed : int, default=0
        Seed of the random weights.

    Returns
    -------
    str
        The sha256 of the written file.
    """
    torch.manual_seed(seed)
    model = AttRNN(**TINY_CONFIG).eval()
    return save_checkpoint(model, path, "attrnn", TINY_CONFIG,
                           metadata={"purpose": "interface tests only; untrained"})
