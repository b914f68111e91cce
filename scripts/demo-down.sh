#!/usr/bin/env bash
# `make demo-down`: removes the lab of `make demo` (its containers, their volumes, its network).
set -euo pipefail
for name in tradia-lab-ai tradia-lab-app; do
  if docker inspect "$name" >/dev/null 2>&1; then
    docker rm -f -v "$name" >/dev/null
    echo "demo-down: removed $name"
  fi
done
if docker network inspect tradia-lab >/dev/null 2>&1; then
  docker network rm tradia-lab >/dev/null
  echo "demo-down: removed network tradia-lab"
fi
