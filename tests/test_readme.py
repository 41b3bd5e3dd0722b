"""README.md runs as written and describes the package as it is (issue 28, points 5-7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import v2s_sklearn
from v2s_sklearn.cli import main as v2s

PACKAGE = Path(v2s_sklearn.__file__).resolve().parent
ROOT = PACKAGE.parent
README = (ROOT / "README.md").read_text()

#: Modules the core rewrite deletes; the README no longer lists them.
BEING_REMOVED = {"sonification.py", "benchmark.py"}


def _section(title: str) -> str:
    """The README's text under ``## title``, up to the next ``## ``."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.DOTALL | re.MULTILINE)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.DOTALL | re.MULTILINE)


@pytest.fixture
def few_epochs(monkeypatch):
    """Every fit the README starts trains 2 epochs: the code runs as written, quickly."""
    from v2s_sklearn import V2SClassifier

    fit = V2SClassifier.fit

    def quick_fit(self, *args, **kwargs):
        self.set_params(max_epochs=min(self.max_epochs, 2))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(V2SClassifier, "fit", quick_fit)


@pytest.mark.filterwarnings("ignore::Warning")  # 2 epochs end before early stopping
def test_every_python_block_runs_in_order_with_the_default_model(tmp_path, monkeypatch,
                                                                 few_epochs):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # the files the blocks write land here
    blocks = _blocks("python")
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "__readme__"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"README.md python block {number}", "exec"), namespace)  # noqa: S102
        except Exception as error:  # noqa: BLE001 - reported with the block that raised
            pytest.fail(f"README python block {number} raised {type(error).__name__}: "
                        f"{error}\n{code}")
    assert namespace["clf"] is not None and (tmp_path / "why.png").stat().st_size > 1000


def test_the_quickstart_installs_runs_the_demo_and_the_tests():
    quickstart = _blocks("bash")[0].splitlines()
    assert quickstart[:2] == ['pip install -e ".[test]" && v2s demo', "python -m pytest"]


def test_options_being_removed_are_not_mentioned_outside_the_parameter_table():
    # The table's rows are the core rewrite's to edit; everything else is checked here.
    prose = re.sub(r"^\|.*\|\n", "", README, flags=re.MULTILINE)
    for removed in ("mixup_alpha", "scaling_trial_epochs", "input_transform",
                    "CVEnsembleClassifier", "iterative", "sonification", "crepe-tiny"):
        assert removed not in prose, removed


def _layout_paths() -> set[str]:
    """Paths the Layout section's tree names, rebuilt from its indentation."""
    tree = re.search(r"```\n(v2s_sklearn/\n.*?)```", _section("Layout"), re.DOTALL)
    assert tree, "the Layout section has no v2s_sklearn/ tree"
    lines = tree.group(1).splitlines()
    paths, folders = set(), []  # folders: (indent, name) of the open folders
    for line in lines[1:]:
        if not line.startswith("  ") or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        name = line.split()[0]
        if not name.endswith((".py", "/")):
            continue  # a description's continuation line
        while folders and folders[-1][0] >= indent:
            folders.pop()
        path = "/".join([f for _, f in folders] + [name.rstrip("/")])
        paths.add(path)
        if name.endswith("/"):
            folders.append((indent, name.rstrip("/")))
    return paths


def test_the_layout_lists_every_module_of_the_package():
    listed = _layout_paths()
    modules = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
               if "__pycache__" not in p.parts and p.name not in BEING_REMOVED}
    # A subpackage's __init__.py is listed as its folder.
    modules = {m.removesuffix("/__init__.py")
               for m in modules}
    assert not sorted(modules - listed), "README's Layout misses these"
    assert not listed & BEING_REMOVED


def test_models_prints_the_readme_table_in_the_same_words(capsys):
    v2s(["models"])
    printed = {}
    for line in capsys.readouterr().out.splitlines():
        match = re.match(r"(\S+)(?: \(default\))?: .*held-out-voice accuracy ([0-9.]+), "
                         r"real-clip accuracy ([0-9.]+)", line)
        if match:
            printed[match.group(1)] = match.groups()[1:]
    table = _section("The built-in acoustic models")
    header = next(line for line in table.splitlines() if line.startswith("| model |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    voice, real = columns.index("held-out-voice accuracy"), columns.index("real-clip accuracy")
    rows = 0
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = re.match(r"`([^`]+)`", cells[0]) if line.startswith("| `") else None
        if name:
            rows += 1
            assert (cells[voice], cells[real]) == printed[name.group(1)], name.group(1)
    assert rows >= 5


def test_the_accuracy_numbers_are_those_of_docs_benchmarks():
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text()
    section = _section("How accurate is it?")
    numbers = re.findall(r"\d+\.\d+(?: s)?|\d{3,}(?: s)", section)
    assert "0.883" in numbers and "1.9 s" in numbers
    missing = [n for n in numbers if n not in benchmarks]
    assert not missing, "numbers in README's accuracy section not in docs/benchmarks.md"
