#!/usr/bin/env bash
# Installs the Debian packages Hansa needs to build, test and run, skipping those already present.
# Usage: deploy/install-deps.sh [build|test|all]   (default: all)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libssl-dev openssl libxml2-dev libxmlsec1-dev libxmlsec1-openssl xmlsec1
  libcpp-httplib-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libcli11-dev
  libzip-dev libsqlite3-dev libpqxx-dev libp11-dev libyaml-cpp-dev mold
)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev softhsm2 opensc
  postgresql postgresql-client zip unzip curl python3 procps
  haproxy
  python3-yaml
  python3-zeep
  prometheus
)

case "${1:-all}" in
  build) wanted=("${build_pkgs[@]}") ;;
  test | all) wanted=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install packages" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
