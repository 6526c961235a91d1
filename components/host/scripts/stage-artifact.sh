#!/usr/bin/env bash
# Stages one pinned artifact on a host (run as root by SevSnpHost for firmware and by ConfidentialVm
# for kernels and initrds): the bytes are verified against the pinned SHA-256 and size, kept once in a
# content-addressed store, and hard-linked to where a guest uses them. Re-running with the same pin
# is a no-op; a corrupted store copy is detected and refused.
#
# Sources, in order: the store copy (re-verified), an uploaded file at $INCOMING (verified, then
# moved in), or a download from $SOURCE_URL (verified, then moved in).
# ACTION=delete removes the link, and the store copy once no other link uses it (idempotent).
# Prints one line of JSON on stdout; problems go to stderr as `stage-artifact: <code>: <message>`;
# exit 1 failed, 2 usage.
# Environment: NAME, SHA256, SIZE, LINK (absolute path), STATE_DIR (default
#   /var/lib/confidential-inference), INCOMING (optional path), SOURCE_URL (optional https URL),
#   ACTION (create|delete, default create), CURL (default curl; overridable for tests).
set -euo pipefail

STATE_DIR=${STATE_DIR:-/var/lib/confidential-inference}
ACTION=${ACTION:-create}
CURL=${CURL:-curl}
INCOMING=${INCOMING:-}
SOURCE_URL=${SOURCE_URL:-}

die() {
  printf 'stage-artifact: %s: %s\n' "$1" "$2" >&2
  exit "${3:-1}"
}

[[ "${NAME:-}" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die usage "NAME must be an artifact name" 2
[[ "${SHA256:-}" =~ ^[0-9a-f]{64}$ ]] || die usage "SHA256 must be 64 lower-case hex digits" 2
[[ "${SIZE:-}" =~ ^[1-9][0-9]*$ ]] || die usage "SIZE must be a positive byte count" 2
[[ "${LINK:-}" = /* ]] || die usage "LINK must be an absolute path" 2

store="$STATE_DIR/artifacts/sha256"
blob="$store/$SHA256"

if [ "$ACTION" = delete ]; then
  rm -f "$LINK"
  if [ -f "$blob" ] && [ "$(stat -c %h "$blob")" -le 1 ]; then rm -f "$blob"; fi
  printf '{"name":"%s","deleted":true}\n' "$NAME"
  exit 0
fi
[ "$ACTION" = create ] || die usage "ACTION must be create or delete" 2

# True when file $1 has the pinned size and SHA-256.
matches_pin() {
  [ "$(stat -c %s "$1")" = "$SIZE" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]
}

mkdir -p "$store" "$(dirname "$LINK")"
source=store
if [ -f "$blob" ]; then
  if ! matches_pin "$blob"; then
    mv -f "$blob" "$blob.corrupt.$$"
    die artifact-corrupt "the stored copy of $NAME does not match its pin (moved aside to $blob.corrupt.$$)"
  fi
elif [ -n "$INCOMING" ] && [ -f "$INCOMING" ]; then
  source=upload
  if ! matches_pin "$INCOMING"; then
    rm -f "$INCOMING"
    die artifact-mismatch "the uploaded $NAME does not match sha256 $SHA256 and size $SIZE"
  fi
  mv -f "$INCOMING" "$blob.part.$$"
  mv -f "$blob.part.$$" "$blob"
elif [ -n "$SOURCE_URL" ]; then
  source=download
  tmp="$blob.part.$$"
  if ! "$CURL" -fsSL --retry 3 --max-time 600 -o "$tmp" "$SOURCE_URL"; then
    rm -f "$tmp"
    die artifact-unavailable "could not download $NAME from $SOURCE_URL"
  fi
  if ! matches_pin "$tmp"; then
    rm -f "$tmp"
    die artifact-mismatch "$NAME from $SOURCE_URL does not match sha256 $SHA256 and size $SIZE"
  fi
  mv -f "$tmp" "$blob"
else
  die artifact-missing "$NAME is not staged on this host and has neither an upload nor a download URL"
fi
chmod 0444 "$blob"
ln -f "$blob" "$LINK"

printf '{"name":"%s","sha256":"%s","size":%s,"path":"%s","source":"%s"}\n' "$NAME" "$SHA256" "$SIZE" "$LINK" "$source"
