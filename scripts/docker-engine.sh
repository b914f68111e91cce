#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, so the image builds and molecule can run.
# Dev and CI machines have no systemd (see docs/environment.md), so when no engine answers we
# install docker.io with apt if needed and start dockerd ourselves, detached from this shell.
# Idempotent: does nothing when `docker info` already works (a laptop's Docker Desktop, a
# dockerd started earlier by this script or by another job).
#
# Env: TRADIA_CACHE (default ~/.cache/tradia) holds dockerd's log when /var/log is not writable;
#      DOCKER_ENGINE_TIMEOUT seconds to wait for the daemon (default 60).
set -euo pipefail

timeout_s="${DOCKER_ENGINE_TIMEOUT:-60}"
cache="${TRADIA_CACHE:-$HOME/.cache/tradia}"

engine_answers() {
  docker info >/dev/null 2>&1
}

# Waits for the engine; gives up at the deadline, or at once if the dockerd we started died.
wait_for_engine() {
  local pid="$1" deadline=$((SECONDS + timeout_s))
  until engine_answers; do
    if ((SECONDS >= deadline)); then
      echo "docker-engine: dockerd did not answer within ${timeout_s}s" >&2
      return 1
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "docker-engine: dockerd exited" >&2
      return 1
    fi
    sleep 1
  done
}

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "docker-engine: no Docker engine answers and starting one needs root;" \
    "start Docker yourself (or add your user to the docker group) and rerun." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
  echo "docker-engine: installing docker.io and iptables with apt ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io iptables ca-certificates >/dev/null
fi

if [ -w /var/log ]; then
  log=/var/log/dockerd.log
else
  mkdir -p "$cache"
  log="$cache/dockerd.log"
fi

# Another job may already be starting dockerd (its pid file exists before the socket answers):
# wait for that one instead of racing it for /var/run/docker.pid.
pid=""
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker-engine: starting dockerd (log: $log) ..." >&2
  # setsid: dockerd must outlive this script and the make/CI step that called it.
  setsid dockerd >"$log" 2>&1 </dev/null &
  pid=$!
fi

start=$SECONDS
if ! wait_for_engine "$pid"; then
  echo "docker-engine: last lines of $log:" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
fi
echo "docker-engine: Docker engine ready after $((SECONDS - start))s" \
  "($(docker version --format '{{.Server.Version}}'))" >&2
