"""Shared helpers for the rating tests: the seeded synthetic generator of benchmarks/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "_synthetic.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("glassarena_bench_synthetic", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: dataclasses look their module up while the file runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    """benchmarks/_synthetic.py: make_battles(...) and make_style_battles(...)."""
    return _load_generator()
