#!/usr/bin/env bash
# `make demo-down`: removes the lab of `make demo` (every lab host and the identity provider of
# TRADIA_LAB_AUTH=ldap|oidc, their volumes, its network, the remembered lab shape with the
# provider's CA and the lab's secrets). The lab's CA stays in the cache, like the images.
set -euo pipefail
names=$(docker ps -a --filter label=org.tradia.lab=1 --format '{{.Names}}')
for name in tradia-lab-ai tradia-lab-ai-2 tradia-lab-ai-3 tradia-lab-app tradia-lab-idp $names; do
  if docker inspect "$name" >/dev/null 2>&1; then
    docker rm -f -v "$name" >/dev/null
    echo "demo-down: removed $name"
  fi
done
if docker network inspect tradia-lab >/dev/null 2>&1; then
  docker network rm tradia-lab >/dev/null
  echo "demo-down: removed network tradia-lab"
fi
rm -rf "${TRADIA_CACHE:-$HOME/.cache/tradia}/lab/state"
