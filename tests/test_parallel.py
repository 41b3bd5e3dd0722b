"""A fit changes nothing process-wide, and the package's imports run one way.

The fits here run as if inside a Dask task (a stand-in worker), without a cluster;
``tests/test_dask.py`` runs them on a real one.
"""

from __future__ import annotations

import ast
import ctypes
import pathlib
import types

import pytest
import torch

import v2s_sklearn
from v2s_sklearn import V2SClassifier, parallel
from v2s_sklearn.training import Callback

from .conftest import FAST

QUICK = {**FAST, "max_epochs": 1, "input_scaling": None, "device": "cpu"}


class _Libc:
    """Stands in for glibc: records ``mallopt`` calls instead of changing the process."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    """Every ``ctypes.CDLL("libc.so.6")`` of the test gets the recorder; the variable
    Dask's nanny sets is set, so a restore would go ahead."""
    fake, real = _Libc(), ctypes.CDLL

    def cdll(name, *args, **kwargs):
        return fake if name == "libc.so.6" else real(name, *args, **kwargs)

    monkeypatch.setattr(ctypes, "CDLL", cdll)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    return fake


class _ThreadsSeen(Callback):
    def on_train_begin(self, run) -> None:
        self.threads = torch.get_num_threads()


@pytest.fixture
def in_a_dask_task(monkeypatch):
    """As inside a task of a one-thread Dask worker, with torch at 2 threads before it."""
    worker = types.SimpleNamespace(state=types.SimpleNamespace(nthreads=1), plugins={})
    monkeypatch.setattr(parallel, "dask_worker", lambda: worker)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_fit_in_a_dask_task_calls_no_mallopt_and_gives_its_threads_back(
        libc, in_a_dask_task, italy):
    X, y = italy
    clf = V2SClassifier(**QUICK, callbacks=[_ThreadsSeen()]).fit(X, y)
    clf.predict_proba(X)
    inside, after = clf.callbacks_[-1].threads, torch.get_num_threads()
    assert libc.calls == [], "fit changed glibc's malloc settings for the whole process"
    assert (inside, after) == (1, 2)  # the task's share, then the count it found


class _Fails(Callback):
    def on_train_begin(self, run) -> None:
        raise RuntimeError("stop here")


def test_a_failing_fit_in_a_dask_task_gives_its_threads_back(in_a_dask_task, italy):
    X, y = italy
    with pytest.raises(RuntimeError, match="stop here"):
        V2SClassifier(**QUICK, callbacks=[_Fails()]).fit(X, y)
    assert torch.get_num_threads() == 2


def test_the_malloc_plugin_restores_glibc_limits_on_setup(libc, monkeypatch):
    pytest.importorskip("distributed")
    from v2s_sklearn.parallel import MMAP_THRESHOLD_BYTES, MallocThresholds

    plugin = MallocThresholds()
    assert plugin.restored is None and libc.calls == []
    plugin.setup(worker=None)
    assert plugin.restored is True
    assert sorted(libc.calls) == [(-3, MMAP_THRESHOLD_BYTES), (-1, 2 * MMAP_THRESHOLD_BYTES)]
    # A worker whose environment leaves glibc adaptive is left as it is.
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    libc.calls.clear()
    plugin.setup(worker=None)
    assert plugin.restored is False and libc.calls == []


# ------------------------------------------------------------------ imports
PACKAGE = pathlib.Path(v2s_sklearn.__file__).parent

#: Import cycles known and left to the modules' owners, each as the sorted list of
#: the modules in it. Empty: a new cycle fails the test below.
KNOWN_CYCLES: list[list[str]] = []


def _modules() -> dict[str, tuple[pathlib.Path, bool]]:
    """Dotted name -> (file, is a package) for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _imports(name: str, path: pathlib.Path, is_package: bool, modules: dict) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in it (inside functions too),
    except under ``if TYPE_CHECKING:``, which never runs."""
    targets = set()
    tree = ast.parse(path.read_text(), str(path))
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test):
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from . import x`` imports the submodule x when there is one.
            targets.update(f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules
                           else module for alias in node.names)
    found = set()
    for target in targets:
        while target not in modules and "." in target:  # a name inside a module
            target = target.rsplit(".", 1)[0]
        if target in modules and target != name:
            found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_the_cycle_finder_sees_a_lazy_import_and_a_cycle(tmp_path):
    module = tmp_path / "a.py"
    module.write_text("def f():\n    from .b import thing\n")
    assert _imports("pkg.a", module, False, {"pkg.a": 0, "pkg.b": 0}) == {"pkg.b"}
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_among_the_package_modules():
    modules = _modules()
    graph = {name: _imports(name, path, is_package, modules)
             for name, (path, is_package) in modules.items()}
    assert "v2s_sklearn.parallel" in graph["v2s_sklearn.classifier"]  # the parse sees imports
    cycles = _cycles(graph)
    assert [c for c in cycles if c not in KNOWN_CYCLES] == [], (
        "modules that import each other, directly or through others (lazy imports "
        f"included): {cycles}")
