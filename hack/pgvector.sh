#!/usr/bin/env bash
# Builds and installs the pgvector extension into PostgreSQL 15 from Debian's own source tarball, for
# the Postgres store's tests (Debian bookworm packages PostgreSQL 15 but not pgvector). Idempotent:
# does nothing when this version is installed already; the tarball's checksum is verified.
#
#   hack/pgvector.sh                      (as root: installs build dependencies with apt-get when missing)
#   hack/pgvector.sh --print-build-args   the same pin as build arguments of the postgres image
set -euo pipefail

VERSION=0.8.0
SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
URL="http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_${VERSION}.orig.tar.gz"

if [ "${1:-}" = --print-build-args ]; then
  echo "--build-arg PGVECTOR_VERSION=$VERSION --build-arg PGVECTOR_SHA256=$SHA256 --build-arg PGVECTOR_URL=$URL"
  exit 0
fi
PG_BIN=/usr/lib/postgresql/15/bin

needed=(postgresql-15 postgresql-server-dev-15 make gcc curl ca-certificates)
missing=()
for pkg in "${needed[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if ((${#missing[@]} > 0)); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

extension_dir="$("$PG_BIN/pg_config" --sharedir)/extension"
if grep -qs "default_version = '${VERSION}'" "$extension_dir/vector.control" && [ -f "$("$PG_BIN/pg_config" --pkglibdir)/vector.so" ]; then
  echo "pgvector ${VERSION} is installed in ${extension_dir}"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 3 -o "$work/pgvector.tar.gz" "$URL"
echo "${SHA256}  $work/pgvector.tar.gz" | sha256sum --check --status || {
  echo "pgvector tarball checksum mismatch (expected ${SHA256})" >&2
  exit 1
}
tar -xzf "$work/pgvector.tar.gz" -C "$work"
source_dir="$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
# with_llvm=no: the JIT bitcode would need clang, and the tests never use JIT.
make -s -C "$source_dir" PG_CONFIG="$PG_BIN/pg_config" with_llvm=no OPTFLAGS="" >/dev/null
make -s -C "$source_dir" PG_CONFIG="$PG_BIN/pg_config" with_llvm=no install >/dev/null
echo "pgvector ${VERSION} installed in ${extension_dir}"
