#!/usr/bin/env bash
# Builds a local copy of Docker's apt repository, laid out like download.docker.com/linux/debian,
# signed by a throwaway key made here (its own key, not the NVIDIA repository's; prepare runs it
# on gpu-repo, whose apt cache must be fresh):
#   OUT/gpg                                          armored public key (docker_engine_ce_gpg_key_url)
#   OUT/dists/CODENAME/{Release,InRelease,Release.gpg}
#   OUT/dists/CODENAME/stable/binary-ARCH/Packages(.gz)
#   OUT/dists/CODENAME/pool/stable/ARCH/*.deb         (docker_engine_ce_repo_url = OUT's URL)
# Packages, split the way Docker splits them, with Debian's engine inside (README.md: why):
#   docker-ce-cli  /usr/bin/docker and its completions and man pages, taken from Debian's docker.io
#   docker-ce      the rest of docker.io (dockerd, docker-proxy, docker-init, the systemd units and
#                  docker.io's maintainer scripts); depends on docker-ce-cli (= version) and containerd.io
#   containerd.io  a metapackage depending on Debian's containerd and runc
# docker-ce and docker-ce-cli conflict with and replace docker.io, as Docker's do (and docker.io
# conflicts with them, which is why a docker-ce that depends on docker.io cannot be installed).
# Versions follow Docker's scheme (epoch 5, -1~debian.N~codename) around Debian's engine version.
# Usage: build-docker-repo.sh OUT_DIR
set -euo pipefail

out=$1
# shellcheck disable=SC1091
. /etc/os-release
codename=$VERSION_CODENAME
arch=$(dpkg --print-architecture)
pool="dists/$codename/pool/stable/$arch"
maintainer="Tradia molecule <gpu-repo@molecule.invalid>"
note=" Built by molecule/gpu_and_docker_ce from Debian's docker.io to prove the docker_engine role's
 docker_ce path offline; not Docker's build."
work=$(mktemp -d)
export GNUPGHOME="$work/gnupg"
trap 'gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$work"' EXIT

rm -rf "$out"
mkdir -p "$out/$pool" "$out/dists/$codename/stable/binary-$arch" "$GNUPGHOME"
chmod 700 "$GNUPGHOME"

# Debian's engine, from the host's Debian mirror.
(cd "$work" && apt-get -qq -o APT::Sandbox::User=root download docker.io)
src="$work/docker-ce"
dpkg-deb --raw-extract "$work"/docker.io_*.deb "$src"
field() { dpkg-deb --field "$work"/docker.io_*.deb "$1"; }
upstream=$(field Version | sed 's/[+~-].*//')
suffix="1~debian.${VERSION_ID}~${codename}"
engine_version="5:$upstream-$suffix"
containerd_version="$(apt-cache show --no-all-versions containerd | sed -n 's/^Version: \([^+~-]*\).*/\1/p')-$suffix"

# The CLI's files move from docker.io's tree into docker-ce-cli's.
cli="$work/docker-ce-cli"
for path in usr/bin/docker usr/share/bash-completion/completions/docker \
  usr/share/zsh/vendor-completions/_docker usr/share/fish/vendor_completions.d/docker.fish \
  usr/share/man/man1; do
  mkdir -p "$cli/$(dirname "$path")"
  mv "$src/$path" "$cli/$path"
done
mkdir -p "$cli/DEBIAN"

# write_control ROOT NAME VERSION SUMMARY [FIELD: VALUE...]: a package tree's control file and md5sums.
write_control() {
  local root=$1 name=$2 version=$3 summary=$4
  shift 4
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 --no-run-if-empty md5sum >DEBIAN/md5sums)
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    printf '%s\n' "$@"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Homepage: https://www.docker.com"
    echo "Description: $summary (test build)"
    echo "$note"
  } >"$root/DEBIAN/control"
}

# docker-ce keeps docker.io's maintainer scripts (they name no package) and conffiles; its
# dependencies are docker.io's, with containerd and runc through containerd.io.
depends=$(field Depends | sed -e 's/containerd ([^)]*), //' -e 's/runc ([^)]*), //')
write_control "$src" docker-ce "$engine_version" "Docker: the open-source application container engine" \
  "Pre-Depends: $(field Pre-Depends)" \
  "Depends: containerd.io (>= 1.6), docker-ce-cli (= $engine_version), $depends" \
  "Recommends: $(field Recommends)" \
  "Conflicts: docker.io, docker-engine" \
  "Replaces: docker.io, docker-engine"
write_control "$cli" docker-ce-cli "$engine_version" "Docker CLI: the open-source application container engine" \
  "Depends: libc6" \
  "Conflicts: docker.io" \
  "Replaces: docker.io"
mkdir -p "$work/containerd.io/DEBIAN"
write_control "$work/containerd.io" containerd.io "$containerd_version" "An open and reliable container runtime" \
  "Depends: containerd (>= 1.6), runc"

# Fast compression: these packages live for one test run.
for name in docker-ce docker-ce-cli containerd.io; do
  root="$work/$name"
  version=$(sed -n 's/^Version: //p' "$root/DEBIAN/control")
  # Docker's file names leave the epoch out.
  dpkg-deb -Zgzip -z1 --root-owner-group --build "$root" "$out/$pool/${name}_${version#*:}_${arch}.deb" >/dev/null
done

cd "$out"
apt-ftparchive packages "$pool" >"dists/$codename/stable/binary-$arch/Packages"
gzip -9 -n -k "dists/$codename/stable/binary-$arch/Packages"
cd "dists/$codename"
apt-ftparchive \
  -o APT::FTPArchive::Release::Origin=tradia-molecule-gpu \
  -o APT::FTPArchive::Release::Label="Docker CE test build" \
  -o APT::FTPArchive::Release::Suite="$codename" \
  -o APT::FTPArchive::Release::Codename="$codename" \
  -o APT::FTPArchive::Release::Components=stable \
  -o APT::FTPArchive::Release::Architectures="$arch" \
  release . >"$work/Release"
mv "$work/Release" Release

gpg --batch --quiet --passphrase '' \
  --quick-gen-key "Tradia molecule Docker CE repository <gpu-repo@molecule.invalid>" ed25519 sign 1d
gpg --batch --quiet --yes --armor --detach-sign --output Release.gpg Release
gpg --batch --quiet --yes --clearsign --output InRelease Release
gpg --batch --armor --export >"$out/gpg"
