"""The layering rules of docs/architecture.md that import-linter cannot see by itself: every
core module is under the contract of pyproject.toml, and the core has no function-level
imports (they hide cycles from import-linter and from readers)."""

from __future__ import annotations

import ast
import pathlib

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tensorcore"
CORE_CONTRACT = "The core does not import the array API namespace or the library above it"


def _core_files() -> list[pathlib.Path]:
    names = ["tensor.py", "autograd.py", "_dispatch.py", "_tape.py", "_methods.py",
             "_optable.py"]
    return [PACKAGE / name for name in names] + sorted(PACKAGE.glob("ops_*.py"))


def _contract(name: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"] == name)


def test_every_core_module_is_under_the_layering_contract():
    listed = set(_contract(CORE_CONTRACT)["source_modules"])
    missing = {f"tensorcore.{path.stem}" for path in _core_files()} - listed
    assert not missing, f"add {sorted(missing)} to the core contract in pyproject.toml"
    assert "tensorcore.array_api" in _contract(CORE_CONTRACT)["forbidden_modules"]


def test_core_modules_import_only_at_module_level():
    found = []
    for path in _core_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        top_level = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top_level:
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"function-level imports in the core: {found}"
