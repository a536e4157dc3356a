#!/usr/bin/env bash
# Lints the Hansa Helm chart (deploy/helm/hansa) with what this machine has:
#  - helm present: `helm lint` and `helm template` (default values and the variants below), the
#    rendered documents checked by deploy/helm/render.py --stdin;
#  - helm absent (Debian 12 does not package it): deploy/helm/render.py renders the templates
#    itself (the Go-template subset the chart uses) and checks the documents (PyYAML and a small
#    schema of the emitted kinds).
# Either way every variant must render and pass the checks. Exit 0 when all pass.
#   deploy/helm/lint.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chart="$here/hansa"
py=python3
# Debian's python3 has python3-yaml; a python3 earlier in PATH may not.
if ! "$py" -c 'import yaml' 2>/dev/null && [[ -x /usr/bin/python3 ]]; then
  py=/usr/bin/python3
fi
"$py" -c 'import yaml' 2>/dev/null || { echo "lint: python3-yaml is missing (deploy/install-deps.sh)" >&2; exit 1; }

variants=(
  ""
  "--set central.existingSecret=central-db --set node.existingSecret=node-secrets"
  "--set central.persistence.existingClaim=c-pvc --set node.persistence.existingClaim=n-pvc --set node.persistence.storageClass=nfs"
  "--set central.enabled=false"
  "--set node.enabled=false --set image.tag=1.2.3"
)
rc=0
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086
  if command -v helm >/dev/null; then
    echo "== helm template ${v:-(defaults)}"
    helm lint "$chart" $v >/dev/null || rc=1
    helm template test "$chart" $v | "$py" "$here/render.py" "$chart" --stdin || rc=1
  else
    echo "== render.py ${v:-(defaults)} (helm not installed)"
    "$py" "$here/render.py" "$chart" $v || rc=1
  fi
done
exit $rc
