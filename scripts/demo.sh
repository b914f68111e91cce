#!/usr/bin/env bash
# `make demo`: the whole Tradia stack in a local lab, left running.
#   tradia-lab-ai   systemd "server": Ollama simulator (real SmolLM2-135M) behind Traefik on 11434
#   tradia-lab-app  systemd "server": Tradia built on the host, Traefik on 443
# Both are test-bed containers (never --privileged) on their own network, configured by
# playbooks/site.yml with inventory/lab exactly like real servers. `make demo-down` removes it.
# Env: TRADIA_LAB_PORT (default 8443): the localhost port published to the app server's 443.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
network=tradia-lab
port="${TRADIA_LAB_PORT:-8443}"
hosts=(tradia-lab-ai tradia-lab-app)
start=$SECONDS

scripts/docker-engine.sh
scripts/build-images.sh testbed-host python traefik ollama-sim

docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null

for name in "${hosts[@]}"; do
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
    echo "demo: $name is already running"
    continue
  fi
  docker rm -f -v "$name" >/dev/null 2>&1 || true
  publish=()
  if [ "$name" = tradia-lab-app ]; then
    publish=(-p "127.0.0.1:$port:443")
  fi
  # The test bed's flags (docs/environment.md): all capabilities but SYS_RESOURCE, no seccomp,
  # the host's cgroups for systemd, a volume for the inner /var/lib/docker.
  docker run -d --name "$name" --hostname "$name" --network "$network" "${publish[@]}" \
    --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker \
    --tmpfs /run --tmpfs /run/lock --label org.tradia.lab=1 \
    tradia/testbed-host:bookworm /lib/systemd/systemd >/dev/null
  echo "demo: started $name"
done

for name in "${hosts[@]}"; do
  for _ in $(seq 60); do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) break ;; esac
    sleep 1
  done
done

ANSIBLE_CONFIG="$repo/ansible.cfg" "$repo/.venv/bin/ansible-playbook" -i inventory/lab playbooks/site.yml

ip=$(docker inspect -f "{{ (index .NetworkSettings.Networks \"$network\").IPAddress }}" tradia-lab-app)
ca="${TRADIA_CACHE:-$HOME/.cache/tradia}/lab/pki/ca.crt"
cat <<MSG

Tradia is running ($((SECONDS - start)) s):
  https://$ip/            (the app server's address on the lab network)
  https://localhost:$port/   (published on this machine)
  login: demo / tradia-demo
  The certificate is signed by the lab's own CA: $ca
  (accept the browser's warning, or: curl --cacert $ca -u demo:tradia-demo https://$ip/readyz)
Stop and remove the lab: make demo-down
MSG
