"""Pickling of fitted estimators: versions recorded, the source model's weights left out."""

from __future__ import annotations

import torch

from ._version import __version__
from .exceptions import InconsistentVersionWarning, warn_at_caller


class VersionedPickleMixin:
    """Record the package and torch versions in the pickle, warn on a mismatch
    (as scikit-learn does), and drop the working copy of the acoustic model,
    which is rebuilt from the fitted pin on demand: a built-in model's weights
    are reloaded by name, not pickled, and a GPU copy never reaches the pickle."""

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        if "_acoustic_model_cache" in state:
            state["_acoustic_model_cache"] = {}
        state["_v2s_version"] = __version__
        state["_torch_version"] = torch.__version__
        return state

    def __setstate__(self, state: dict) -> None:
        pickled = state.get("_v2s_version", "unknown (before 0.2)")
        if pickled != __version__:
            warn_at_caller(
                f"Trying to unpickle {type(self).__name__} from v2s-sklearn {pickled} when "
                f"using version {__version__}. This might lead to breaking code or invalid "
                "results. Use at your own risk.", InconsistentVersionWarning)
        super().__setstate__(state)
