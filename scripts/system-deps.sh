#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those missing. Needs root for apt;
# otherwise it lists what to install and fails.
set -euo pipefail
declare -A wanted=(
  [dockerd]=docker.io     # the test-bed engine (dockerd started by scripts/docker-engine.sh)
  [iptables]=iptables
  [debootstrap]=debootstrap  # base image when no registry can be reached
  [chromium]=chromium     # browser tests (Playwright drives Debian's build)
  [promtool]=prometheus   # promtool tests of the monitoring role's alert rules
  [slapd]=slapd           # LDAP sign-in tests (app/tests/ldap_server.py runs a throwaway slapd)
  [gpg]=gnupg             # backup archives (library/backup_archive, tests/unit/roles/test_backup_restore.py)
)
# Packages without a command of their own: LibreOffice headless re-opens and converts the
# translated office documents (app/tests), as a user's office suite would.
packages=(libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${wanted[$cmd]}")
done
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
