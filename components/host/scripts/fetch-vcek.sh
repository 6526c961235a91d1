#!/usr/bin/env bash
# Fetches and caches the host's VCEK and the AMD ASK/ARK chain from the AMD Key Distribution Service
# (run by SevSnpHost as root after the preflight). The cache is keyed by chip and reported TCB, so a
# re-run with the same inputs downloads nothing, and a TCB change fetches the matching VCEK.
#
# Writes $STATE_DIR/vcek/<Product>/<hwid>/<tcb>.der and $STATE_DIR/vcek/<Product>/cert_chain.pem, and
# refreshes $STATE_DIR/vcek/current/{vcek.der,ask.pem,ark.pem} (the layout AMD tooling and
# `attestctl verify snp --certs` read). Prints one line of JSON on stdout.
# Problems go to stderr as `fetch-vcek: <code>: <message>`; exit 1 failed, 2 usage.
# Environment: PRODUCT (Milan|Genoa|Turin), CHIP_ID (hex), TCB_BOOTLOADER, TCB_TEE, TCB_SNP,
#   TCB_MICROCODE, TCB_FMC (Turin only), KDS_BASE_URL (default https://kdsintf.amd.com),
#   STATE_DIR (default /var/lib/confidential-inference), CURL (default curl; overridable for tests).
set -euo pipefail

KDS_BASE_URL=${KDS_BASE_URL:-https://kdsintf.amd.com}
STATE_DIR=${STATE_DIR:-/var/lib/confidential-inference}
CURL=${CURL:-curl}

die() {
  printf 'fetch-vcek: %s: %s\n' "$1" "$2" >&2
  exit "${3:-1}"
}

spl() {
  local name=$1 value=${!1:-}
  if [[ ! "$value" =~ ^[0-9]{1,3}$ ]] || ((10#$value > 255)); then die usage "$name must be an SPL between 0 and 255" 2; fi
}

case "${PRODUCT:-}" in Milan|Genoa|Turin) ;; *) die usage "PRODUCT must be Milan, Genoa or Turin" 2 ;; esac
[[ "${CHIP_ID:-}" =~ ^[0-9a-f]{16,128}$ ]] || die usage "CHIP_ID must be lower-case hex" 2
for v in TCB_BOOTLOADER TCB_TEE TCB_SNP TCB_MICROCODE; do spl "$v"; done

if [ "$PRODUCT" = Turin ]; then
  spl TCB_FMC
  # Turin VCEKs are keyed by the first 8 bytes of CHIP_ID; fmcSPL comes first.
  hwid=${CHIP_ID:0:16}
  query="fmcSPL=$TCB_FMC&blSPL=$TCB_BOOTLOADER&teeSPL=$TCB_TEE&snpSPL=$TCB_SNP&ucodeSPL=$TCB_MICROCODE"
  tag="fmc$TCB_FMC-bl$TCB_BOOTLOADER-tee$TCB_TEE-snp$TCB_SNP-ucode$TCB_MICROCODE"
else
  [ "${#CHIP_ID}" -eq 128 ] || die usage "CHIP_ID of a $PRODUCT host must be 64 bytes (128 hex digits)" 2
  hwid=$CHIP_ID
  query="blSPL=$TCB_BOOTLOADER&teeSPL=$TCB_TEE&snpSPL=$TCB_SNP&ucodeSPL=$TCB_MICROCODE"
  tag="bl$TCB_BOOTLOADER-tee$TCB_TEE-snp$TCB_SNP-ucode$TCB_MICROCODE"
fi
[[ ! "$hwid" =~ ^0+$ ]] || die masked-chip-id "CHIP_ID is all zero (MASK_CHIP_ID is set): KDS cannot issue a VCEK; use a VLEK"

base="$STATE_DIR/vcek/$PRODUCT"
vcek="$base/$hwid/$tag.der"
chain="$base/cert_chain.pem"
vcek_url="$KDS_BASE_URL/vcek/v1/$PRODUCT/$hwid?$query"
chain_url="$KDS_BASE_URL/vcek/v1/$PRODUCT/cert_chain"
mkdir -p "$base/$hwid" "$STATE_DIR/vcek/current"

# Downloads $1 to $2 atomically (KDS throttles repeated requests: retry with a delay).
fetch() {
  local tmp="$2.part.$$"
  if ! "$CURL" -fsS --retry 5 --retry-delay 11 --max-time 60 -o "$tmp" "$1"; then
    rm -f "$tmp"
    die kds-unavailable "could not download $1"
  fi
  mv -f "$tmp" "$2"
}

cached=true
if [ ! -s "$vcek" ]; then cached=false; fetch "$vcek_url" "$vcek"; fi
if [ ! -s "$chain" ]; then cached=false; fetch "$chain_url" "$chain"; fi

# A DER certificate starts with a SEQUENCE (0x30); KDS answers errors as text.
[ "$(head -c 1 "$vcek" | od -An -tx1 | tr -d ' \n')" = 30 ] || { rm -f "$vcek"; die kds-bad-response "the VCEK from $vcek_url is not a DER certificate"; }
[ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$chain")" -eq 2 ] || { rm -f "$chain"; die kds-bad-response "the cert_chain from $chain_url is not two PEM certificates (ASK, ARK)"; }

current="$STATE_DIR/vcek/current"
cp -f "$vcek" "$current/vcek.der"
awk -v ask="$current/ask.pem" -v ark="$current/ark.pem" '
  /-----BEGIN CERTIFICATE-----/ { n++ }
  n == 1 { print > ask }
  n == 2 { print > ark }
' "$chain"

printf '{"vcekUrl":"%s","vcekSha256":"%s","certsDir":"%s","cached":%s}\n' \
  "$vcek_url" "$(sha256sum "$vcek" | cut -d' ' -f1)" "$current" "$cached"
