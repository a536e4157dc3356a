#!/usr/bin/env bash
# Checks the systemd units in this folder: `systemd-analyze verify` (syntax, known directives;
# the ExecStart binary is replaced by /bin/true because the binaries are not installed here), the
# hardening every unit must keep (grep), and `systemd-analyze security --offline` exposure
# (must stay below 3.0, "OK"). Also `logrotate -d` on deploy/logrotate/hansa when logrotate is
# installed. Exit 77 (skip) when systemd-analyze is not available.
#   deploy/systemd/verify.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
required=(
  "User=hansa" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes"
  "PrivateDevices=yes" "CapabilityBoundingSet=" "ReadWritePaths=" "RestrictAddressFamilies="
  "SystemCallFilter=@system-service" "ProtectKernelTunables=yes" "RestrictSUIDSGID=yes"
)
for unit in "$here"/*.service; do
  name=$(basename "$unit")
  for r in "${required[@]}"; do
    grep -q "^$r" "$unit" || { echo "$name: missing $r"; rc=1; }
  done
  sed -E 's#^ExecStart=/usr/local/bin/[^ ]+#ExecStart=/bin/true#' "$unit" >"$tmp/$name"
  if ! systemd-analyze verify --man=no "$tmp/$name" >"$tmp/verify.log" 2>&1 || [[ -s "$tmp/verify.log" ]]; then
    echo "$name: systemd-analyze verify:"; cat "$tmp/verify.log"; rc=1
  fi
  if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    exposure=$(systemd-analyze security --offline=yes "$tmp/$name" 2>/dev/null |
      sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [[ -z "$exposure" ]] || ! awk -v e="$exposure" 'BEGIN { exit !(e < 3.0) }'; then
      echo "$name: exposure level '${exposure:-?}' is not below 3.0"; rc=1
    else
      echo "$name: verified, exposure $exposure"
    fi
  else
    echo "$name: verified"
  fi
done
if command -v logrotate >/dev/null; then
  logrotate -d "$here/../logrotate/hansa" >"$tmp/logrotate.log" 2>&1 ||
    { echo "logrotate -d:"; cat "$tmp/logrotate.log"; rc=1; }
fi
exit $rc
