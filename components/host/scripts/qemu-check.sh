#!/usr/bin/env bash
# Installs (optionally) and checks QEMU with SEV-SNP support on a host (run by SevSnpHost as root).
#
# Prints one line of JSON on stdout: {"qemu":{"path","version","sevSnpGuest":true},"installed":bool}.
# Problems go to stderr as `qemu-check: <code>: <message>` and the script exits 1; exit 2 is usage.
# Environment:
#   QEMU             binary name or path (default qemu-system-x86_64)
#   PACKAGE_MANAGER  none (check only, the default) | apt | dnf
#   QEMU_PACKAGES    space-separated packages to install when QEMU is missing (default qemu-system-x86)
#   MIN_QEMU         oldest accepted version (default 9.1.0, the first upstream release with sev-snp-guest)
#   APT_GET, DNF     package manager commands (overridable for tests)
set -euo pipefail

QEMU=${QEMU:-qemu-system-x86_64}
PACKAGE_MANAGER=${PACKAGE_MANAGER:-none}
QEMU_PACKAGES=${QEMU_PACKAGES:-qemu-system-x86}
MIN_QEMU=${MIN_QEMU:-9.1.0}
APT_GET=${APT_GET:-apt-get}
DNF=${DNF:-dnf}

die() {
  printf 'qemu-check: %s: %s\n' "$1" "$2" >&2
  exit "${3:-1}"
}

# "a.b.c" >= "x.y.z"
version_at_least() {
  local IFS=.
  local -a have want
  read -r -a have <<< "$1"
  read -r -a want <<< "$2"
  local i
  for i in 0 1 2; do
    if ((${have[i]:-0} > ${want[i]:-0})); then return 0; fi
    if ((${have[i]:-0} < ${want[i]:-0})); then return 1; fi
  done
  return 0
}

[[ "$MIN_QEMU" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die usage "MIN_QEMU must be a version like 9.1.0" 2
read -r -a packages <<< "$QEMU_PACKAGES"

installed=false
if ! command -v "$QEMU" > /dev/null 2>&1; then
  case "$PACKAGE_MANAGER" in
    none) die qemu-missing "$QEMU is not installed (install ${QEMU_PACKAGES} ${MIN_QEMU} or newer, or set hostSetup.packageManager)" ;;
    apt) DEBIAN_FRONTEND=noninteractive "$APT_GET" install -y --no-install-recommends "${packages[@]}" >&2 || die install-failed "$APT_GET install ${QEMU_PACKAGES} failed" ;;
    dnf) "$DNF" install -y "${packages[@]}" >&2 || die install-failed "$DNF install ${QEMU_PACKAGES} failed" ;;
    *) die usage "PACKAGE_MANAGER must be none, apt or dnf" 2 ;;
  esac
  installed=true
  command -v "$QEMU" > /dev/null 2>&1 || die qemu-missing "$QEMU is still missing after installing ${QEMU_PACKAGES}"
fi

path=$(command -v "$QEMU")
# Outputs are captured before matching: `cmd | grep -q` would fail under pipefail when grep exits early.
banner=$("$QEMU" --version 2> /dev/null) || die qemu-broken "$path --version failed"
banner=${banner%%$'\n'*}
version=$(printf '%s' "$banner" | sed -n 's/^QEMU emulator version \([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
[ -n "$version" ] || die qemu-broken "unrecognised version banner: ${banner:0:80}"
version_at_least "$version" "$MIN_QEMU" || die qemu-too-old "QEMU $version is older than $MIN_QEMU (no sev-snp-guest object)"
objects=$("$QEMU" -object help 2> /dev/null) || die qemu-broken "$path -object help failed"
grep -qw 'sev-snp-guest' <<< "$objects" || die qemu-no-snp "QEMU $version at $path was built without the sev-snp-guest object"

printf '{"qemu":{"path":"%s","version":"%s","sevSnpGuest":true},"installed":%s}\n' "$path" "$version" "$installed"
