"""
Reprogramming silero-vad, a voice-activity model trained on real speech
=======================================================================

Our built-in source models heard only synthesized voices. `silero-vad
<https://github.com/snakers4/silero-vad>`_ (MIT licence) was trained on real
speech in many languages and ships its weights inside its wheel, so nothing is
downloaded: ``pip install silero-vad``. Its 16 kHz network reads 512-sample
chunks (with 64 samples of context) through a fixed STFT, four convolutions and
an LSTM cell, and scores each chunk's probability of speech.

:class:`SileroVADSource` rebuilds that network in plain PyTorch from the weights
in the wheel's TorchScript file, for a batch of one-second waveforms at once
(the convolutions of all 32 chunks in parallel, the LSTM cell along them), so
gradients reach ``theta``. Its "source classes" are the 32 chunks: the logit of
class ``t`` is the pre-sigmoid speech score of chunk ``t``. A label map over
chunk positions means little, so the model is meant for
``readout="features"``: it exposes its activations pooled over the chunks
(``classify_pooled``: the STFT magnitudes, each convolution's output and the
LSTM's state, mean and maximum), and the feature head reads them.

``docs/benchmarks.md`` ("Issue 27, lever 4") has its accuracy on TRAIN cuts of
the 36 development sets against the default model
(``benchmarks/silero_study.py``).
"""

from __future__ import annotations

import importlib.util
from importlib import resources

import torch
from torch import nn

SAMPLE_RATE = 16000
CHUNK = 512  # samples per chunk at 16 kHz
CONTEXT = 64  # samples of the previous chunk each chunk also reads


class SileroVADSource(nn.Module):
    """silero-vad's 16 kHz network as a batched, differentiable source model.

    Parameters
    ----------
    input_length : int, default=16000
        Samples of one input (one second); it is cut into ``ceil(input_length / 512)``
        chunks, the last one zero-padded.

    Attributes
    ----------
    class_names : list of str
        ``"chunk_<t>"``: one "source class" per chunk, scored by its speech logit.
    sample_rate, input_length : int
    """

    def __init__(self, input_length: int = SAMPLE_RATE) -> None:
        super().__init__()
        import silero_vad  # noqa: F401 - the weights ship in its wheel

        path = resources.files("silero_vad.data").joinpath("silero_vad.jit")
        weights = torch.jit.load(str(path), map_location="cpu").state_dict()
        weights = {k[len("_model."):]: v for k, v in weights.items() if k.startswith("_model.")}
        self.sample_rate = SAMPLE_RATE
        self.input_length = int(input_length)
        self.n_chunks = -(-self.input_length // CHUNK)
        self.class_names = [f"chunk_{t}" for t in range(self.n_chunks)]
        self.register_buffer("basis", weights["stft.forward_basis_buffer"].float())
        strides = (1, 2, 2, 1)
        self.encoder = nn.ModuleList()
        for i, stride in enumerate(strides):
            weight = weights[f"encoder.{i}.reparam_conv.weight"]
            conv = nn.Conv1d(weight.shape[1], weight.shape[0], 3, stride=stride, padding=1)
            conv.weight.data.copy_(weight)
            conv.bias.data.copy_(weights[f"encoder.{i}.reparam_conv.bias"])
            self.encoder.append(conv)
        self.cell = nn.LSTMCell(128, 128)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(self.cell, name).data.copy_(weights[f"decoder.rnn.{name}"])
        self.out = nn.Conv1d(128, 1, 1)
        self.out.weight.data.copy_(weights["decoder.decoder.2.weight"])
        self.out.bias.data.copy_(weights["decoder.decoder.2.bias"])

    def chunks(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, n_chunks, 576)``: each chunk with the 64 samples before it."""
        padded = nn.functional.pad(waveform, (CONTEXT, self.n_chunks * CHUNK
                                              - waveform.shape[1]))
        return padded.unfold(1, CHUNK + CONTEXT, CHUNK)

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """The waveform itself: the network's front end is its own STFT."""
        return waveform

    def classify_pooled(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-chunk speech logits ``(batch, n_chunks)`` and pooled activations."""
        batch = waveform.shape[0]
        x = self.chunks(waveform).reshape(batch * self.n_chunks, 1, -1)
        x = nn.functional.pad(x, (0, CONTEXT), mode="reflect")
        x = nn.functional.conv1d(x, self.basis, stride=CHUNK // 4)
        half = self.basis.shape[0] // 2
        x = (x[:, :half] ** 2 + x[:, half:] ** 2 + 1e-12).sqrt()  # (B * T, 129, 4)
        layers = [x]
        for conv in self.encoder:
            x = torch.relu(conv(x))
            layers.append(x)
        steps = x.squeeze(-1).reshape(batch, self.n_chunks, -1)
        h = c = steps.new_zeros(batch, self.cell.hidden_size)
        states = []
        for t in range(self.n_chunks):
            h, c = self.cell(steps[:, t], (h, c))
            states.append(h)
        states = torch.stack(states, dim=2)  # (batch, 128, n_chunks)
        logits = self.out(torch.relu(states)).squeeze(1)  # (batch, n_chunks)
        pooled = []
        for layer in layers:  # (B * T, channels, frames): pool over chunks and frames
            per_series = layer.reshape(batch, self.n_chunks, layer.shape[1], -1)
            pooled += [per_series.mean(dim=(1, 3)), per_series.amax(dim=(1, 3))]
        pooled += [states.mean(dim=2), states.amax(dim=2)]
        return logits, torch.cat(pooled, dim=1)

    def classify(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.classify_pooled(waveform)[0]

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.classify(waveform)


def matches_the_wheels_model(n_samples: int = 16000, seed: int = 0) -> float:
    """Largest difference between :class:`SileroVADSource`'s speech probabilities and
    those of the wheel's own TorchScript model, run chunk by chunk as its docs show."""
    from silero_vad import load_silero_vad

    torch.manual_seed(seed)
    wave = 0.1 * torch.randn(1, n_samples)
    reference = load_silero_vad()
    reference.reset_states()
    expected = torch.cat([reference(chunk, SAMPLE_RATE) for chunk in
                          nn.functional.pad(wave, (0, -n_samples % CHUNK)).split(CHUNK, 1)],
                         dim=1)
    with torch.no_grad():
        ours = torch.sigmoid(SileroVADSource(n_samples)(wave))
    return float((ours - expected).abs().max())


# %%
# Fit it on GunPoint with the feature readout, when silero-vad is installed.
if importlib.util.find_spec("silero_vad") is not None and __name__ == "__main__":
    from v2s_sklearn import V2SClassifier
    from v2s_sklearn.datasets import load_dataset

    print(f"largest difference from the wheel's model: {matches_the_wheels_model():.2e}")
    X_train, y_train = load_dataset("GunPoint", "train")
    X_test, y_test = load_dataset("GunPoint", "test")
    clf = V2SClassifier(acoustic_model=SileroVADSource(), readout="features",
                        max_epochs=30, random_state=0).fit(X_train, y_train)
    print(f"GunPoint test accuracy: {clf.score(X_test, y_test):.3f}")
