"""`python -m glassarena.providers.llama_check`: can this machine run the embedded models?

Loads the smallest embedded model and generates two tokens. A llama.cpp built for
instructions the CPU reports but the operating system does not allow (Intel AMX in some
virtual machines) kills the process with SIGILL on its first matrix product, so the setup
script runs this in its own process and rebuilds llama-cpp-python when it fails.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from llama_cpp import Llama
    except ImportError as error:
        print(f"llama-cpp-python is not installed: {error}", file=sys.stderr)
        return 1
    from glassarena.providers.weights import smollm2_135m_instruct

    llama = Llama(model_path=str(smollm2_135m_instruct()), n_ctx=256, n_threads=1, verbose=False)
    # A prompt of several tokens: single-token products take another code path.
    llama("The quick brown fox jumps over the lazy dog. " * 4, max_tokens=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
