#!/usr/bin/env bash
# Builds llama-cpp-python once (no binary wheel on PyPI: ~3.5 min on 2 cores) and caches the
# wheel, so the simulator's real-LLM backend and its image install it in seconds afterwards.
# Portable build (GGML_NATIVE=OFF): the wheel runs on any x86-64 machine, not just this CPU.
# Prints the wheel's path.
set -euo pipefail
version="${LLAMA_CPP_VERSION:-0.3.36}"
cache="${TRADIA_CACHE:-$HOME/.cache/tradia}/wheels"
python="${PYTHON:-python3}"
mkdir -p "$cache"
wheel=$(find "$cache" -maxdepth 1 -name "llama_cpp_python-${version}-*.whl" | head -n 1)
if [ -z "$wheel" ]; then
  echo "building llama-cpp-python ${version} (portable) into $cache ..." >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$python" -m pip wheel --quiet --no-deps -w "$tmp" \
    "llama-cpp-python==${version}" >&2
  mv "$tmp"/llama_cpp_python-*.whl "$cache/"
  wheel=$(find "$cache" -maxdepth 1 -name "llama_cpp_python-${version}-*.whl" | head -n 1)
fi
echo "$wheel"
