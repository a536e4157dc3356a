#!/usr/bin/env bash
# Fuzzes one target with libFuzzer for a while.
#
#   tests/fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]   (default 60 seconds)
#   tests/fuzz/run.sh --list
#
# Configures (once) and builds a clang build with -DHANSA_FUZZ=ON, the libraries instrumented
# with -fsanitize=fuzzer-no-link,address,undefined, in $HANSA_FUZZ_BUILD_DIR (default
# build/fuzz-libfuzzer). The seed corpus tests/fuzz/corpus/TARGET is read but never written: new
# inputs go to $BUILD/corpus/TARGET and crashes to $BUILD/artifacts/TARGET/. Reproduce a crash in
# any build with `hansa_fuzz_replay TARGET FILE` or `$BUILD/tests/fuzz/fuzz_TARGET FILE`.
# Needs clang (Debian: clang-14 with libclang-rt-14-dev).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${HANSA_FUZZ_BUILD_DIR:-$root/build/fuzz-libfuzzer}

targets=$(sed -n '/^set(hansa_fuzz_targets/,/)/p' "$here/CMakeLists.txt" |
  sed -e 's/set(hansa_fuzz_targets//' -e 's/)//' | tr -s ' \n' '\n' | sed '/^$/d')

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
if [[ $1 == --list ]]; then
  echo "$targets"
  exit 0
fi
target=$1
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
if ! grep -qx "$target" <<<"$targets"; then
  echo "unknown target '$target'; one of:" >&2
  echo "$targets" >&2
  exit 2
fi

cxx=$(command -v clang++ || command -v clang++-14 || true)
cc=$(command -v clang || command -v clang-14 || true)
if [[ -z $cxx || -z $cc ]]; then
  echo "clang is not installed (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_C_FLAGS="-O1 -fsanitize=fuzzer-no-link" \
    -DCMAKE_CXX_FLAGS="-O1 -fsanitize=fuzzer-no-link" \
    -DHANSA_SANITIZE=ON -DHANSA_FUZZ=ON
fi
cmake --build "$build" --target "fuzz_$target" -j2

work="$build/corpus/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$work" "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$build/tests/fuzz/fuzz_$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" \
  "$work" "$here/corpus/$target"
