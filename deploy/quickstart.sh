#!/usr/bin/env bash
# Hansa quickstart.
#
# Today this installs what is missing, builds everything (release preset) and generates the
# development PKI into var/quickstart/pki. Starting a whole federation (trust services, central,
# two nodes, sample providers) comes with the quickstart work; until then this script says so
# plainly at the end instead of pretending.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/var/quickstart"

step() { printf '\n== %s\n' "$*"; }
fail() { printf '\nquickstart: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'fail "step failed at line $LINENO (see the output above)"' ERR

step "Installing missing Debian packages"
deploy/install-deps.sh build

step "Building (release preset)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

if [[ -x certs/make-dev-pki.sh ]]; then
  step "Generating the development PKI into $state/pki"
  mkdir -p "$state"
  certs/make-dev-pki.sh --force "$state/pki" >/dev/null
  echo "Development PKI ready: $state/pki (see certs/README.md for what each identity is for)"
fi

cat <<MSG

Hansa is built (build/release): hansa-trust, hansa-central, hansa-node, hansactl and
hansa-verify are in build/release. This script does not yet start a federation (trust services,
central, two nodes, sample services); until it does, the integration tests show the daemons working
together:
  tests/run --quick -R integration

Next: run every test with
  tests/run
MSG
