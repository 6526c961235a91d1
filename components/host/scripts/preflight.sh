#!/usr/bin/env bash
# SEV-SNP host preflight (run by SevSnpHost over SSH as root; read-only).
#
# Checks that the host can launch SEV-SNP guests and prints its inventory as one line of JSON on
# stdout. Every missing capability is reported on stderr as `preflight: <code>: <message>`, all at
# once, and the script exits 1. Exit 2 means bad usage.
#
# What it reads:
#   $PROC_ROOT/cpuinfo                           vendor, family/model (-> product), the sev_snp flag
#   $PROC_ROOT/sys/kernel/osrelease              kernel release (informational)
#   $SYSFS_ROOT/module/kvm_amd/parameters/sev_snp  KVM's SNP switch (Y or 1)
#   $SYSFS_ROOT/kernel/iommu_groups/             at least one group: the IOMMU is on (SNP needs it)
#   `$SNPHOST show identifier|tcb|version`       chip id, reported and platform TCB, SNP firmware
#                                                (virtee/snphost, which talks to /dev/sev)
# Environment: PROC_ROOT (default /proc), SYSFS_ROOT (default /sys), SNPHOST (default snphost) are
# overridable so tests run this script against fake trees. EXPECT_PRODUCT (Milan|Genoa|Turin) and
# MIN_FIRMWARE (major.minor) are optional requirements.
set -euo pipefail

PROC_ROOT=${PROC_ROOT:-/proc}
SYSFS_ROOT=${SYSFS_ROOT:-/sys}
SNPHOST=${SNPHOST:-snphost}
EXPECT_PRODUCT=${EXPECT_PRODUCT:-}
MIN_FIRMWARE=${MIN_FIRMWARE:-}

failures=0
fail() {
  printf 'preflight: %s: %s\n' "$1" "$2" >&2
  failures=$((failures + 1))
}

# JSON string literal of $1 (backslash, quote and control characters escaped or dropped).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=$(printf '%s' "$s" | tr -d '\000-\037')
  printf '"%s"' "$s"
}

# First value of "key : value" in the first processor block of cpuinfo.
cpu_field() {
  awk -F': *' -v key="$1" '
    /^$/ { exit }
    { name = $1; sub(/[ \t]+$/, "", name); if (name == key) { print $2; exit } }
  ' "$PROC_ROOT/cpuinfo"
}

# Product line from CPU family and model (AMD Processor Programming Reference numbering).
product_of() {
  local family=$1 model=$2
  if ((family == 25 && model <= 15)); then echo Milan
  elif ((family == 25 && ((model >= 16 && model <= 31) || (model >= 160 && model <= 175)))); then echo Genoa
  elif ((family == 26 && model <= 31)); then echo Turin
  else echo unknown
  fi
}

# "major.minor" >= "major.minor"
version_at_least() {
  local have=$1 want=$2
  [ "${have%%.*}" -gt "${want%%.*}" ] || { [ "${have%%.*}" -eq "${want%%.*}" ] && [ "${have#*.}" -ge "${want#*.}" ]; }
}

# TCB JSON object of one section ("Reported TCB" or "Platform TCB") of `snphost show tcb`.
tcb_json() {
  printf '%s\n' "$2" | awk -v want="$1" -v turin="$3" '
    /^[A-Za-z ]+TCB:/ { section = $0; sub(/:.*/, "", section); next }
    section == want && /:/ {
      key = $0; sub(/:.*/, "", key); gsub(/^[ \t]+|[ \t]+$/, "", key)
      value = $0; sub(/^[^:]*:[ \t]*/, "", value); gsub(/[ \t\r]+$/, "", value)
      v[key] = value
    }
    END {
      if (!("Boot Loader" in v) || !("TEE" in v) || !("SNP" in v) || !("Microcode" in v)) { exit 1 }
      out = ""
      if (turin == "1") {
        if (!("FMC" in v) || v["FMC"] !~ /^[0-9]+$/) { exit 1 }
        out = "\"fmc\":" v["FMC"] ","
      }
      for (k in v) if (k != "FMC" && v[k] !~ /^[0-9]+$/) { exit 1 }
      printf "{%s\"bootloader\":%d,\"tee\":%d,\"snp\":%d,\"microcode\":%d}", out, v["Boot Loader"], v["TEE"], v["SNP"], v["Microcode"]
    }
  '
}

if [ ! -r "$PROC_ROOT/cpuinfo" ]; then
  echo "preflight: usage: $PROC_ROOT/cpuinfo is not readable" >&2
  exit 2
fi

vendor=$(cpu_field vendor_id)
family=$(cpu_field "cpu family")
model=$(cpu_field model)
model_name=$(cpu_field "model name")
flags=" $(cpu_field flags) "
product=unknown

if [ "$vendor" != "AuthenticAMD" ]; then
  fail not-amd "CPU vendor is ${vendor:-unknown}; SEV-SNP needs an AMD EPYC processor"
else
  case "$flags" in
    *" sev_snp "*) ;;
    *) fail no-sev-snp-cpu "the CPU does not advertise sev_snp (EPYC 7003 Milan or newer, SNP enabled in the BIOS/UEFI setup)" ;;
  esac
  if [[ "$family" =~ ^[0-9]+$ && "$model" =~ ^[0-9]+$ ]]; then product=$(product_of "$family" "$model"); fi
  if [ "$product" = unknown ]; then
    fail unknown-product "CPU family ${family:-?} model ${model:-?} is not a Milan, Genoa or Turin part"
  elif [ -n "$EXPECT_PRODUCT" ] && [ "$product" != "$EXPECT_PRODUCT" ]; then
    fail product-mismatch "the stack says $EXPECT_PRODUCT but this host is $product"
  fi
fi

param="$SYSFS_ROOT/module/kvm_amd/parameters/sev_snp"
if [ ! -d "$SYSFS_ROOT/module/kvm_amd" ]; then
  fail kvm-amd-missing "the kvm_amd module is not loaded (modprobe kvm_amd sev_snp=1)"
elif [ ! -r "$param" ]; then
  fail sev-snp-disabled "kvm_amd has no sev_snp parameter: the kernel has no SEV-SNP host support (Linux 6.11 or newer)"
else
  case "$(tr -d '[:space:]' < "$param")" in
    Y|1) ;;
    *) fail sev-snp-disabled "kvm_amd sev_snp is off (kvm_amd.sev_snp=1 on the kernel command line, SNP enabled in firmware)" ;;
  esac
fi

iommu_groups=0
if [ -d "$SYSFS_ROOT/kernel/iommu_groups" ]; then
  iommu_groups=$(find "$SYSFS_ROOT/kernel/iommu_groups" -mindepth 1 -maxdepth 1 | wc -l)
fi
if [ "$iommu_groups" -eq 0 ]; then
  fail iommu-disabled "no IOMMU groups: enable the IOMMU in firmware (SEV-SNP requires it) and do not boot with iommu=off or amd_iommu=off"
fi

chip_id="" version="" tcb=""
if ! command -v "$SNPHOST" > /dev/null 2>&1; then
  fail snphost-missing "${SNPHOST##*/} is not installed: it reads the chip id, TCB and firmware version from /dev/sev (virtee/snphost)"
else
  if ! chip_id=$("$SNPHOST" show identifier 2> /dev/null) \
    || ! version=$("$SNPHOST" show version 2> /dev/null) \
    || ! tcb=$("$SNPHOST" show tcb 2> /dev/null); then
    fail snp-status-unavailable "${SNPHOST##*/} could not read the SNP platform status (is SNP initialised? see dmesg | grep -i sev)"
  fi
  chip_id=$(printf '%s' "$chip_id" | tr -d '[:space:]' | tr 'A-F' 'a-f')
  version=$(printf '%s' "$version" | tr -d '[:space:]')
fi

turin=0
if [ "$product" = Turin ]; then turin=1; fi
reported="" platform=""
if [ -n "$tcb" ]; then
  if [[ ! "$chip_id" =~ ^[0-9a-f]{16,128}$ ]]; then fail snp-status-unavailable "chip identifier is not hex: ${chip_id:0:32}"; fi
  if [[ ! "$version" =~ ^[0-9]+\.[0-9]+$ ]]; then
    fail snp-status-unavailable "firmware version is not major.minor: ${version:0:16}"
  elif [ -n "$MIN_FIRMWARE" ] && ! version_at_least "$version" "$MIN_FIRMWARE"; then
    fail firmware-too-old "SNP firmware $version is older than the $MIN_FIRMWARE the launch policies require (update the host firmware)"
  fi
  reported=$(tcb_json "Reported TCB" "$tcb" "$turin") || fail snp-status-unavailable "could not parse the reported TCB from 'snphost show tcb'"
  platform=$(tcb_json "Platform TCB" "$tcb" "$turin") || fail snp-status-unavailable "could not parse the platform TCB from 'snphost show tcb'"
fi

if [ "$failures" -gt 0 ]; then
  echo "preflight: $failures problem(s): this host cannot run SEV-SNP guests" >&2
  exit 1
fi

kernel=""
if [ -r "$PROC_ROOT/sys/kernel/osrelease" ]; then kernel=$(tr -d '\n' < "$PROC_ROOT/sys/kernel/osrelease"); fi

printf '{"schema":1,"product":%s,"cpu":{"vendor":%s,"family":%d,"model":%d,"modelName":%s},"kernel":%s,"chipId":%s,"firmware":{"version":%s},"reportedTcb":%s,"platformTcb":%s,"iommuGroups":%d}\n' \
  "$(json_str "$product")" "$(json_str "$vendor")" "$family" "$model" "$(json_str "$model_name")" "$(json_str "$kernel")" \
  "$(json_str "$chip_id")" "$(json_str "$version")" "$reported" "$platform" "$iommu_groups"
