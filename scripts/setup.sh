#!/usr/bin/env bash
# Creates .venv and installs glassarena with the extras named in $GLASSARENA_EXTRAS.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${GLASSARENA_EXTRAS:-local}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi

# llama.cpp's default build uses every instruction the build CPU reports. Some virtual
# machines report Intel AMX without letting a process use it, and the first matrix product
# then dies with SIGILL. Build for AVX2/FMA instead, which every x86-64 server of the last
# decade runs; a user's own CMAKE_ARGS win.
if [ "$(uname -m)" = x86_64 ]; then
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
fi

echo "Installing glassarena[$extras] into .venv (llama-cpp-python compiles once, ~5 min on 2 cores)…"
.venv/bin/python -m pip install --quiet --editable ".[$extras]"

# The browser runtimes WebDev apps run on (React, Babel, Tailwind, Vue, Pyodide, Mermaid):
# pinned npm tarballs, checked against their sha512 (docs/webdev-runtimes.md).
.venv/bin/glassarena runtimes install

# pip caches the compiled wheel; one cached from a native build (see above) crashes here.
# Generate one token with the smallest embedded model; if that fails, rebuild once.
if [[ ",$extras," == *",local,"* ]] && ! .venv/bin/python -m glassarena.providers.llama_check; then
    echo "llama-cpp-python cannot run on this CPU as built; rebuilding it for AVX2…"
    .venv/bin/python -m pip cache remove 'llama_cpp_python*' >/dev/null 2>&1 || true
    .venv/bin/python -m pip install --quiet --force-reinstall --no-deps \
        "llama-cpp-python==$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"
    .venv/bin/python -m glassarena.providers.llama_check
fi
