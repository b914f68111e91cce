#!/usr/bin/env bash
# Builds a local copy of NVIDIA's flat container-toolkit apt repository, with test shims inside
# the packages, signed by a throwaway key made here (prepare runs it on gpu-repo):
#   OUT/gpgkey                         armored public key (ai_server_nvidia_gpg_key_url)
#   OUT/stable/deb/ARCH/               *.deb, Packages(.gz), Release, InRelease, Release.gpg
#                                      (ai_server_nvidia_repo_url = .../stable/deb/$(ARCH))
# Packages, as NVIDIA splits them: nvidia-container-toolkit-base (nvidia-container-runtime,
# nvidia-ctk) and nvidia-container-toolkit (nvidia-container-runtime-hook, depends on -base).
# Usage: build-nvidia-repo.sh SHIMS_DIR OUT_DIR
set -euo pipefail

shims=$1
out=$2
version=1.17.8-1
arch=$(dpkg --print-architecture)
repo="$out/stable/deb/$arch"
work=$(mktemp -d)
export GNUPGHOME="$work/gnupg"
trap 'gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$work"' EXIT

rm -rf "$out"
mkdir -p "$repo" "$GNUPGHOME"
chmod 700 "$GNUPGHOME"

# build_package NAME DEPENDS SUMMARY SHIM:/usr/bin/TOOL...
build_package() {
  local name=$1 depends=$2 summary=$3 root="$work/$1"
  shift 3
  mkdir -p "$root/DEBIAN"
  for shim in "$@"; do
    install -D -m 0755 "$shims/${shim%%:*}" "$root${shim#*:}"
  done
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: Tradia molecule <gpu-repo@molecule.invalid>"
    if [ -n "$depends" ]; then echo "Depends: $depends"; fi
    echo "Section: utils"
    echo "Priority: optional"
    echo "Description: $summary (test shim)"
    echo " Built by molecule/gpu_and_docker_ce for hosts without a GPU; not NVIDIA's software."
  } >"$root/DEBIAN/control"
  dpkg-deb --root-owner-group --build "$root" "$repo/${name}_${version}_${arch}.deb" >/dev/null
}

build_package nvidia-container-toolkit-base "" "NVIDIA Container Toolkit Base" \
  nvidia_container_runtime.sh:/usr/bin/nvidia-container-runtime \
  nvidia_ctk.sh:/usr/bin/nvidia-ctk
build_package nvidia-container-toolkit "nvidia-container-toolkit-base (= $version)" "NVIDIA Container Toolkit" \
  nvidia_container_runtime_hook.py:/usr/bin/nvidia-container-runtime-hook

cd "$repo"
apt-ftparchive packages . >Packages
gzip -9 -n -k Packages
apt-ftparchive \
  -o APT::FTPArchive::Release::Origin=tradia-molecule-gpu \
  -o APT::FTPArchive::Release::Label="NVIDIA container toolkit test shims" \
  release . >"$work/Release"
mv "$work/Release" Release

gpg --batch --quiet --passphrase '' \
  --quick-gen-key "Tradia molecule GPU repository <gpu-repo@molecule.invalid>" ed25519 sign 1d
gpg --batch --quiet --yes --armor --detach-sign --output Release.gpg Release
gpg --batch --quiet --yes --clearsign --output InRelease Release
gpg --batch --armor --export >"$out/gpgkey"
