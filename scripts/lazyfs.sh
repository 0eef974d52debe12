#!/usr/bin/env bash
# scripts/lazyfs.sh build|check -- build LazyFS, the file system the power-loss test runs srgate's store on.
#
# LazyFS (MIT, a FUSE file system) passes everything through to a backing folder but keeps written
# bytes in its own page cache until the application calls fsync(2)/fdatasync(2) on the file; on
# command ("lazyfs::clear-cache" on its fault FIFO) it drops every byte not synced, as a power cut
# drops a real page cache. tests/common/lazyfs.rs mounts it, cuts the power and mounts it again;
# tests/power_loss_e2e.rs and scripts/power-loss.sh use that harness.
#
#   build     idempotent: installs the missing Debian packages (fuse3 libfuse3-dev cmake g++ make
#             pkg-config), checks tests/tools/lazyfs/SHA256SUMS, builds LazyFS from the copies in
#             tests/tools/lazyfs/ (no download: CMake is pointed at the vendored toml11 and spdlog)
#             into the cache folder, unless that exact commit is already built there. The last line
#             printed is LAZYFS_BIN=<path of the binary>.
#   check     like build, and also fails (exit 1) when /dev/fuse is missing: LazyFS cannot mount.
#
# The cache folder is $LAZYFS_DIR, default target/lazyfs/ (ignored by git, beside cargo's output).
# The binary finds its libpcache.so through a RUNPATH into that folder: do not move it.
# Concurrent runs (two test binaries, a test and scripts/power-loss.sh) wait for each other (flock).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

LAZYFS_COMMIT=a47a5baea559020f29902662de77764b0cbd62ce
TOML11_VERSION=3.7.1   # the tag libs/libpcache/CMakeLists.txt pins (FetchContent)
SPDLOG_VERSION=1.10.0  # likewise
PACKAGES=(fuse3 libfuse3-dev cmake g++ make pkg-config)
VENDOR=$ROOT/tests/tools/lazyfs
DEST=${LAZYFS_DIR:-$ROOT/target/lazyfs}
SRC=$DEST/lazyfs-$LAZYFS_COMMIT
BIN=$SRC/lazyfs/build/lazyfs
STAMP=$SRC/.built-ok

say() { echo "lazyfs.sh: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# The Debian packages LazyFS needs to build and mount, installed only when missing.
install_packages() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "packages missing (${missing[*]}): run as root or install them"
    sudo=(sudo)
  fi
  say "installing ${missing[*]}"
  # Lock::Timeout: wait for another apt run (a parallel build, unattended upgrades) to end.
  timeout 900 "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

verify_sources() {
  (cd "$VENDOR" && sha256sum --quiet -c SHA256SUMS) || die "checksum mismatch in $VENDOR (see its README.md)"
}

# Unpacks the vendored sources and builds libpcache, then LazyFS, with CMake. The layout is
# LazyFS's own: lazyfs/CMakeLists.txt reads spdlog's headers from libs/libpcache/build/_deps/spdlog-src.
compile() {
  local start=$SECONDS log=$DEST/build.log deps=$DEST/deps
  rm -rf "$SRC" "$deps"
  mkdir -p "$deps" "$SRC/.."
  tar -xzf "$VENDOR/lazyfs-$LAZYFS_COMMIT.tar.gz" -C "$DEST"
  tar -xzf "$VENDOR/toml11-v$TOML11_VERSION.tar.gz" -C "$deps"
  local spdlog=$SRC/libs/libpcache/build/_deps/spdlog-src
  mkdir -p "$(dirname "$spdlog")"
  tar -xzf "$VENDOR/spdlog-v$SPDLOG_VERSION.tar.gz" -C "$(dirname "$spdlog")"
  mv "$(dirname "$spdlog")/spdlog-$SPDLOG_VERSION" "$spdlog"
  : >"$log"
  say "building libpcache (log: $log)"
  # FETCHCONTENT_SOURCE_DIR_* stand in for the GitHub downloads of the upstream CMakeLists;
  # FULLY_DISCONNECTED forbids any download.
  (cd "$SRC/libs/libpcache" &&
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
      -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
      -DFETCHCONTENT_SOURCE_DIR_TOML="$deps/toml11-$TOML11_VERSION" \
      -DFETCHCONTENT_SOURCE_DIR_SPDLOG="$spdlog" &&
    cmake --build build -j"$(nproc)") >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "libpcache build failed"; }
  say "building lazyfs"
  (cd "$SRC/lazyfs" &&
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLAZYFS_BUILD_TESTS=OFF &&
    cmake --build build -j"$(nproc)") >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "lazyfs build failed"; }
  [ -x "$BIN" ] || die "no binary produced at $BIN (log: $log)"
  touch "$STAMP"
  say "built in $((SECONDS - start)) s"
}

build() {
  install_packages
  verify_sources
  mkdir -p "$DEST"
  # One builder at a time; the others wait, then find it built.
  exec 9>"$DEST/.lock"
  timeout 1200 flock 9 || die "another build held $DEST/.lock for 20 minutes"
  if [ -f "$STAMP" ] && [ -x "$BIN" ] && [ -f "$SRC/libs/libpcache/build/libpcache.so.0" ]; then
    say "already built in $SRC"
  else
    compile
  fi
  exec 9>&-
  echo "LAZYFS_BIN=$BIN"
}

case "${1:-}" in
  build) build ;;
  check)
    [ -c /dev/fuse ] || die "/dev/fuse is missing: LazyFS (FUSE) cannot mount on this machine; the power-loss test needs it (load the fuse module, or give the container --device /dev/fuse)"
    build
    ;;
  *) usage ;;
esac
