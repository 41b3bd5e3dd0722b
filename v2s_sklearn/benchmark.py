"""Deprecated alias of :mod:`v2s_sklearn.benchmarking`, kept so old imports still work.

``from v2s_sklearn.benchmark import run_benchmark`` (and unpickling an object
saved under this module's name, e.g. a ``MiniRocketRidge``) keeps working with
a ``FutureWarning``; import from :mod:`v2s_sklearn.benchmarking` instead. This
module will be removed in a later release.
"""

from __future__ import annotations

import warnings

from .benchmarking import *  # the whole public API, unchanged
from .benchmarking import __all__  # noqa: F401 - so `import *` from here is the same

warnings.warn("v2s_sklearn.benchmark is deprecated and will be removed; import from "
              "v2s_sklearn.benchmarking instead", FutureWarning, stacklevel=2)
