"""Sphinx configuration of the v2s-sklearn documentation.

Build (after ``pip install -e ".[docs]"``), from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``-D plot_gallery=0`` renders the gallery pages without running the examples
(no figures or printed output; what CI builds).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The package of this checkout, also when another checkout is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "sphinxext"))

import v2s_sklearn

# The examples need no display.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "v2s-sklearn"
author = "v2s-sklearn developers"
copyright = "v2s-sklearn developers"
release = v2s_sklearn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    # sphinx-gallery's build-wide table of run times (an orphan page); the
    # gallery's own auto_examples/sg_execution_times.rst is kept.
    "sg_execution_times.rst",
]

# ---------------------------------------------------------------- optional API
# v2s_sklearn.diagnostics lands with another branch; until it is importable its
# page is left out, and the API index's toctree entry for it is dropped.
# (Only this checkout's module counts: an editable install elsewhere can make
# find_spec answer with another checkout's file.)
_spec = importlib.util.find_spec("v2s_sklearn.diagnostics")
HAS_DIAGNOSTICS = _spec is not None and Path(_spec.origin).resolve().is_relative_to(ROOT)
suppress_warnings: list[str] = []
if not HAS_DIAGNOSTICS:
    exclude_patterns.append("reference/diagnostics.rst")
    # That entry then refers to an excluded document: expected, not warned.
    suppress_warnings.append("toc.excluded")

# ---------------------------------------------------------------------- autodoc
autosummary_generate = True
autosummary_imported_members = False
# A module with __all__ documents exactly its __all__ (also names it imports).
autosummary_ignore_module_all = False
# Names that live in two public places get one page: the top-level one.
autosummary_context = {
    "skip": {
        "v2s_sklearn.acoustic.available_models",
        "v2s_sklearn.acoustic.load_acoustic_model",
    },
    # Estimators also list what they inherit, except members defined in the named
    # bases (autodoc's :inherited-members: since Sphinx 9 leaves out exactly
    # those): fit, predict, score... of sktime's BaseClassifier without skbase's
    # generic object API; score, get_params and set_params of scikit-learn's.
    "inherited": {
        "v2s_sklearn.V2SClassifier": "ReprHTMLMixin, _HTMLDocumentationLinkMixin, "
                                     "_MetadataRequester, object",
        "v2s_sklearn.sktime.V2STimeSeriesClassifier": "BaseEstimator, BaseObject, "
                                                      "_HTMLDocumentationLinkMixin, "
                                                      "_FlagManager, object",
    },
}


def _exported_constants() -> dict[str, list[str]]:
    """Per module: the names in ``__all__`` that are neither modules, classes nor
    callables (constants a package re-exports, which autosummary does not list)."""
    import importlib
    import inspect

    found = {}
    for name in ("v2s_sklearn", "v2s_sklearn.acoustic", "v2s_sklearn.benchmarking"):
        module = importlib.import_module(name)
        found[name] = [
            member for member in getattr(module, "__all__", [])
            if not member.startswith("_")
            and not (inspect.ismodule(value := getattr(module, member))
                     or inspect.isclass(value) or callable(value))
        ]
    return found


autosummary_context["constants"] = _exported_constants()
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
add_module_names = False

numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
# No network where the docs are built; with local inventories (objects.inv
# files in docs/_intersphinx/) references to numpy, sklearn, torch... link out.
for _name, _url in {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "sklearn": "https://scikit-learn.org/stable",
    "torch": "https://docs.pytorch.org/docs/stable",
    "sktime": "https://www.sktime.net/en/stable",
}.items():
    _inventory = DOCS / "_intersphinx" / f"{_name}.inv"
    if _inventory.exists():
        intersphinx_mapping[_name] = (_url, str(_inventory))

# ------------------------------------------------------------------------- MyST
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# ----------------------------------------------------------------- the gallery
# ``-D plot_gallery=0`` (or "False") skips running the examples.
plot_gallery = "True"

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Every example runs (their names need no plot_ prefix).
    "filename_pattern": r"\.py$",
    "within_subsection_order": "v2s_gallery.ExampleOrder",
    "reset_modules": ("matplotlib", "v2s_gallery.reset_torch_threads"),
    "doc_module": ("v2s_sklearn",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"v2s_sklearn": None},
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 1,
    "download_all_examples": False,
    "matplotlib_animations": False,
}

# Short fits in the examples end before early stopping does, on purpose.
warnings.filterwarnings("ignore", message=r"max_epochs=\d+ ended the fit")

# ------------------------------------------------------------------------- HTML
# Keep quotes straight: the pages are full of code ("v2sa-synth", default="ot").
smartquotes = False
# The page's table of contents names methods without their class ("fit()").
toc_object_entries_show_parents = "hide"
html_theme = "pydata_sphinx_theme"
html_title = f"v2s-sklearn {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = False
# The landing page and the one-page command reference need no section sidebar.
html_sidebars = {"index": [], "reference/cli": []}
html_context = {"default_mode": "light"}

# ------------------------------------------------------------------- linkcheck
# No network here: only internal links are checked.
linkcheck_ignore = [r"https?://.*"]


# ------------------------------------------------------------------------ hooks
_THIRD_PARTY = ("sklearn", "sktime", "skbase")


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata routing (set_fit_request, ...) is generated for
    # every estimator and documented by scikit-learn.
    if name == "get_metadata_routing" or (name.startswith("set_")
                                           and name.endswith("_request")):
        return True
    return None


def _shorten_inherited(app, what, name, obj, options, lines):
    """An inherited scikit-learn or sktime method keeps its summary and names its
    origin: its full docstring is written for that project's own docs (its glossary
    and labels), which are not part of this build."""
    origin = getattr(obj, "__module__", None) or ""
    if what not in ("method", "property", "attribute") or \
            origin.split(".")[0] not in _THIRD_PARTY:
        return
    summary = []
    for line in lines:
        if not line.strip():
            if summary:
                break
            continue
        summary.append(line)
    # Their :ref: and :term: targets live in that project's docs: plain text here.
    summary = [re.sub(r":(?:ref|term):`([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", line)
               for line in summary]
    public = origin.split("._")[0]
    owner = getattr(obj, "__qualname__", name).split(".")[0]
    lines[:] = [*summary, "", f"Inherited from ``{public}.{owner}``; see its documentation."]


def _list_new_guides(app, docname, source):
    """A markdown page in docs/ that user_guide.rst does not name yet joins it (linked
    and in its toctree), so a new guide needs no edit here and breaks no -W build."""
    if docname != "user_guide":
        return
    text = source[0]
    new = sorted(page.stem for page in DOCS.glob("*.md")
                 if f"<{page.stem}>" not in text and f"   {page.stem}\n" not in text)
    if new:
        links = ", ".join(f":doc:`{name}`" for name in new)
        source[0] = (text + f"\nMore: {links}.\n\n.. toctree::\n   :hidden:\n\n"
                     + "".join(f"   {name}\n" for name in new))


def _reread_user_guide(app, env, added, changed, removed):
    # An incremental build must see a guide added since the last one.
    return ["user_guide"] if "user_guide" in env.found_docs else []


def setup(app):
    app.connect("source-read", _list_new_guides)
    app.connect("env-get-outdated", _reread_user_guide)
    app.connect("autodoc-skip-member", _skip_member)
    # Before numpydoc (priority 500) parses the docstring.
    app.connect("autodoc-process-docstring", _shorten_inherited, priority=400)
