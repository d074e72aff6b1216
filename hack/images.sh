#!/usr/bin/env bash
# Builds the project's container images with podman and no registry: the base they start from is
# made here from Debian's packages (mmdebstrap) and the pinned Node.js of hack/node.sh, and the
# images are tagged with the names the chart and the CRD deploy, so a local node runs them as they
# are with imagePullPolicy IfNotPresent.
#
#   hack/images.sh build [NAME...]   build the images (default: assistant operator); layers are cached
#   hack/images.sh ref NAME          print the reference NAME is built under
#   hack/images.sh save DIR [NAME...]  write DIR/NAME.oci.tar for each (ctr images import takes them)
#   hack/images.sh podman ARGS...    run podman with this project's settings (hack/images/containers.conf)
#
# NAME is assistant or operator. The Dockerfiles are the ones users build with a registry: their
# base is the build argument NODE_IMAGE (default node:26-slim), which this script points at the
# local base localhost/node:26-slim. Needs root (podman's rootful storage); installs podman and
# mmdebstrap with apt-get when they are missing.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HACK_DIR/.." && pwd)
CACHE_ROOT=${AIA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-assistant-operator/tools}
export CONTAINERS_CONF="$HACK_DIR/images/containers.conf"

NODE_VERSION=$("$HACK_DIR/node.sh" version)
NODE_MAJOR=${NODE_VERSION%%.*}
BASE_REF="localhost/node:$NODE_MAJOR-slim"
# The npm the base carries for the images' build stages (the Node tarball ships none).
NPM_VERSION=11.21.2
NPM_INTEGRITY=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${AIA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${AIA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

log() { printf '%s\n' "images: $*" >&2; }
die() { log "$*"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The repository and tag each image is deployed under: operator/src/api/images.ts is their one source.
images_ts() { sed -n "s/^export const $1 = \"\(.*\)\";$/\1/p" "$ROOT/operator/src/api/images.ts"; }
ref_of() {
  local repository tag
  repository=$(images_ts imageRepository)
  tag=$(images_ts imageTag)
  case "$1" in
    assistant) echo "$repository/ai-assistant:$tag" ;;
    operator) echo "$repository/ai-assistant-operator:$tag" ;;
    *) die "unknown image '$1' (known: assistant operator)" ;;
  esac
}
dockerfile_of() { echo "$ROOT/$1/Dockerfile"; }

install_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" = 0 ] || die "needs ${missing[*]} (apt-get install ${missing[*]}), or run as root to have them installed"
  log "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# fetch_npm_package NAME VERSION INTEGRITY DIR: the verified tarball of an npm package, in DIR.
fetch_npm_package() {
  local name=$1 version=$2 integrity=$3 dir=$4 file actual
  file="$dir/$name-$version.tgz"
  (cd "$dir" && npm pack --silent "$name@$version" >/dev/null)
  actual=$(openssl dgst -sha512 -binary "$file" | base64 -w0)
  [ "sha512-$actual" = "$integrity" ] || die "integrity mismatch for $name@$version"
  echo "$file"
}

# Everything the base is made of; the base is rebuilt only when this changes, because a new base
# image invalidates every cached layer above it.
base_key() {
  {
    sha256sum "$("$HACK_DIR/node.sh" tarball)" | cut -d' ' -f1
    echo "$NPM_VERSION $DEBIAN_SUITE $DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR"
    sed -n '/^build_base()/,/^}/p' "${BASH_SOURCE[0]}"
  } | sha256sum | cut -c1-16
}

# The local equivalent of the official node:<major>-slim: Debian's minbase with debian-slim's path
# excludes, the official Node binary and headers under /usr/local, npm, and the node user (1000).
build_base() {
  local key existing node_tgz npm_tgz started work="$WORK/base"
  key=$(base_key)
  existing=$(podman image inspect --format '{{ index .Labels "dev.aiassistant.base-key" }}' "$BASE_REF" 2>/dev/null || true)
  [ "$existing" = "$key" ] && return 0
  log "building the base $BASE_REF: Debian $DEBIAN_SUITE from Debian's packages plus Node $NODE_VERSION (about 2 minutes, once)"
  started=$(date +%s)
  mkdir -p "$work"
  node_tgz=$("$HACK_DIR/node.sh" tarball)
  npm_tgz=$(fetch_npm_package npm "$NPM_VERSION" "$NPM_INTEGRITY" "$work")
  mkdir -p "$work/usr-local/lib/node_modules" "$work/usr-local/share/doc/node" "$work/npm"
  tar -xzf "$node_tgz" -C "$work" package/bin package/include package/share package/LICENSE
  cp -a "$work/package/bin" "$work/package/include" "$work/package/share" "$work/usr-local/"
  cp "$work/package/LICENSE" "$work/usr-local/share/doc/node/LICENSE"
  tar -xzf "$npm_tgz" -C "$work/npm"
  mv "$work/npm/package" "$work/usr-local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/usr-local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/usr-local/bin/npx"
  # The snapshot mirrors serve signed but dated Release files: the option is for this run only and
  # never enters the image.
  mmdebstrap --quiet --mode=root --variant=minbase --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --include=libatomic1 \
    --customize-hook="sync-in '$work/usr-local' /usr/local" \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    "$DEBIAN_SUITE" "$work/rootfs.tar" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
    "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -n 40 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed (its log is above)"; }
  podman import --quiet \
    --change 'CMD ["node"]' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL dev.aiassistant.base-key=$key" \
    "$work/rootfs.tar" "$BASE_REF" >/dev/null
  log "built $BASE_REF in $(($(date +%s) - started))s"
}

# The build steps reach the npm registry over the host's network. Its CA bundle and registry reach
# them through a read-only mount over the base's empty /usr/local/etc (npm's global config folder),
# never through a layer.
build_config_dir() {
  local dir="$CACHE_ROOT/images/build-etc"
  mkdir -p "$dir"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/ca-certificates.crt"
  {
    echo "registry=$(npm config get registry)"
    echo "cafile=/usr/local/etc/ca-certificates.crt"
    echo "update-notifier=false"
  } >"$dir/npmrc"
  echo "$dir"
}

build() {
  local names=("$@") name ref started etc revision version
  ((${#names[@]} > 0)) || names=(assistant operator)
  for name in "${names[@]}"; do ref_of "$name" >/dev/null; done
  install_tools
  build_base
  etc=$(build_config_dir)
  version=$(images_ts imageTag)
  revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
  [ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] || revision="$revision-dirty"
  for name in "${names[@]}"; do
    ref=$(ref_of "$name")
    log "building $ref from $name/Dockerfile (cached layers make a rebuild take seconds; a cold one minutes)"
    started=$(date +%s)
    podman build --quiet --layers --format docker --network host \
      --volume "$etc:/usr/local/etc:ro" \
      --build-arg "NODE_IMAGE=$BASE_REF" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
      --file "$(dockerfile_of "$name")" --tag "$ref" "$ROOT" >/dev/null
    log "built $ref in $(($(date +%s) - started))s: $(podman image inspect --format '{{ .Size }}' "$ref" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
  done
}

save() {
  local dir=$1; shift
  local names=("$@") name ref
  ((${#names[@]} > 0)) || names=(assistant operator)
  mkdir -p "$dir"
  for name in "${names[@]}"; do
    ref=$(ref_of "$name")
    podman image exists "$ref" || die "$ref is not built: run hack/images.sh build $name"
    rm -f "$dir/$name.oci.tar"
    podman save --quiet --format oci-archive --output "$dir/$name.oci.tar" "$ref"
    log "saved $ref to $dir/$name.oci.tar"
  done
}

case "${1:-}" in
  build) shift; build "$@" ;;
  ref) [ $# -eq 2 ] || die "usage: hack/images.sh ref NAME"; ref_of "$2" ;;
  save) [ $# -ge 2 ] || die "usage: hack/images.sh save DIR [NAME...]"; shift; save "$@" ;;
  podman) shift; podman "$@" ;;
  *) echo "usage: hack/images.sh build [NAME...] | ref NAME | save DIR [NAME...] | podman ARGS..." >&2; exit 2 ;;
esac
