#!/usr/bin/env bash
# Builds the container images the project ships and the ones its real node runs, with podman and no
# registry, under the names users pull: a node then runs the chart, the CRD's defaults and the
# samples as they are, with imagePullPolicy IfNotPresent.
#
#   hack/images.sh build [NAME...]     build images (default: assistant operator); cached, so a rebuild takes seconds
#   hack/images.sh ref NAME            print the reference NAME is built under
#   hack/images.sh save DIR [NAME...]  write DIR/NAME.oci.tar for each (what `ctr images import` takes)
#   hack/images.sh podman ARGS...      run podman with this project's settings (hack/images/containers.conf)
#
# NAME is one of:
#   assistant, operator    this project's, from assistant/Dockerfile and operator/Dockerfile
#   postgres               PostgreSQL 15 with pgvector, from Debian's packages (hack/images/postgres)
#   pause, busybox, metrics-server, coredns, local-path-provisioner
#                          what the real node runs: a static pause, Debian's static busybox, and the
#                          pinned Go binaries of hack/binaries.sh, each alone in its image
#
# The base images are made here too: localhost/debian:bookworm-slim from Debian's packages
# (mmdebstrap) and localhost/node:26-slim from it and the Node of hack/node.sh. The Dockerfiles are
# the ones users build with a registry; their bases are build arguments (NODE_IMAGE, DEBIAN_IMAGE)
# that default to the official images. Needs root (podman's rootful storage); installs podman, runc
# (the runtime images/containers.conf names: Debian's podman brings crun, which this sandbox refuses)
# and mmdebstrap with apt-get when they are missing.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HACK_DIR/.." && pwd)
CACHE_ROOT=${AIA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-assistant-operator/tools}
export CONTAINERS_CONF="$HACK_DIR/images/containers.conf"

NODE_VERSION=$("$HACK_DIR/node.sh" version)
DEBIAN_SUITE=bookworm
DEBIAN_REF="localhost/debian:$DEBIAN_SUITE-slim"
NODE_REF="localhost/node:${NODE_VERSION%%.*}-slim"
DEBIAN_MIRROR=${AIA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${AIA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# The npm the Node base carries for the images' build stages (the Node tarball ships none).
NPM_VERSION=11.21.2
NPM_INTEGRITY=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
KEY_LABEL=dev.aiassistant.content-key
ALL_IMAGES=(assistant operator postgres pause busybox metrics-server coredns local-path-provisioner)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

log() { printf '%s\n' "images: $*" >&2; }
die() { log "$*"; exit 1; }
elapsed() { echo "$(($(date +%s) - $1))s"; }

# The repository and tag of this project's images: operator/src/api/images.ts is their one source.
images_ts() { sed -n "s/^export const $1 = \"\(.*\)\";$/\1/p" "$ROOT/operator/src/api/images.ts"; }
pinned() { "$HACK_DIR/binaries.sh" version "$1"; }

ref_of() {
  case "$1" in
    assistant) echo "$(images_ts imageRepository)/ai-assistant:$(images_ts imageTag)" ;;
    operator) echo "$(images_ts imageRepository)/ai-assistant-operator:$(images_ts imageTag)" ;;
    postgres) echo "docker.io/pgvector/pgvector:pg15" ;;
    pause) echo "registry.k8s.io/pause:3.10" ;;
    busybox) echo "docker.io/library/busybox:1.35" ;;
    metrics-server) echo "registry.k8s.io/metrics-server/metrics-server:$(pinned metrics-server)" ;;
    coredns) echo "registry.k8s.io/coredns/coredns:$(pinned coredns)" ;;
    local-path-provisioner) echo "docker.io/rancher/local-path-provisioner:$(pinned local-path-provisioner)" ;;
    *) die "unknown image '$1' (known: ${ALL_IMAGES[*]})" ;;
  esac
}

install_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" = 0 ] || die "needs ${missing[*]} (apt-get install ${missing[*]}), or run as root to have them installed"
  log "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

label_of() { podman image inspect --format "{{ index .Labels \"$KEY_LABEL\" }}" "$1" 2>/dev/null || true; }

# The base Debian image: minbase with debian-slim's path excludes. It is imported, so a rebuild gives
# a new image ID that invalidates every cached layer above it: it is rebuilt only when its recipe changes.
build_debian_base() {
  local key started work="$WORK/debian"
  key=$({ echo "$DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR"; sed -n '/^build_debian_base()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
  [ "$(label_of "$DEBIAN_REF")" = "$key" ] && return 0
  log "building $DEBIAN_REF from Debian's packages (mmdebstrap; about a minute, once)"
  started=$(date +%s)
  mkdir -p "$work"
  # The snapshot mirrors serve signed but dated Release files: the option is for this run only and
  # never enters the image. libatomic1 is there because Node links it.
  mmdebstrap --mode=root --variant=minbase --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --include=libatomic1 \
    "$DEBIAN_SUITE" "$work/rootfs.tar" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
    "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -n 40 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed (its log is above)"; }
  podman import --quiet --change 'CMD ["bash"]' --change "LABEL $KEY_LABEL=$key" "$work/rootfs.tar" "$DEBIAN_REF" >/dev/null
  log "built $DEBIAN_REF in $(elapsed "$started")"
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

# The local equivalent of the official node:<major>-slim: the Debian base, the official Node binary
# and headers under /usr/local, npm, and the node user (1000).
build_node_base() {
  local started ctx="$WORK/node"
  started=$(date +%s)
  mkdir -p "$ctx/usr-local/lib/node_modules" "$ctx/usr-local/share/doc/node"
  tar -xzf "$("$HACK_DIR/node.sh" tarball)" -C "$ctx" package/bin package/include package/share package/LICENSE
  cp -a "$ctx/package/bin" "$ctx/package/include" "$ctx/package/share" "$ctx/usr-local/"
  cp "$ctx/package/LICENSE" "$ctx/usr-local/share/doc/node/LICENSE"
  tar -xzf "$(fetch_npm_package npm "$NPM_VERSION" "$NPM_INTEGRITY" "$ctx")" -C "$ctx"
  mv "$ctx/package" "$ctx/usr-local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr-local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr-local/bin/npx"
  podman build --quiet --layers --build-arg "DEBIAN_IMAGE=$DEBIAN_REF" --build-arg "NODE_VERSION=$NODE_VERSION" \
    --file "$HACK_DIR/images/node/Containerfile" --tag "$NODE_REF" "$ctx" >/dev/null
  log "$NODE_REF ready in $(elapsed "$started")"
}

# The build steps reach the registries over the host's network. Its CA bundle and npm registry reach
# them through a read-only mount over /usr/local/etc (npm's global config folder), never through a layer.
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

# build_dockerfile NAME FILE CONTEXT ARGS...: a cached podman build of one of the project's Dockerfiles.
build_dockerfile() {
  local name=$1 file=$2 context=$3 ref revision started; shift 3
  ref=$(ref_of "$name")
  revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
  [ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] || revision="$revision-dirty"
  log "building $ref from ${file#"$ROOT"/} (cached layers make a rebuild take seconds; a cold one minutes)"
  started=$(date +%s)
  podman build --quiet --layers --format docker --network host \
    --volume "$(build_config_dir):/usr/local/etc:ro" \
    --build-arg "VERSION=$(images_ts imageTag)" --build-arg "REVISION=$revision" "$@" \
    --file "$file" --tag "$ref" "$context" >/dev/null
  log "built $ref in $(elapsed "$started"): $(podman image inspect --format '{{ .Size }}' "$ref" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
}

# The root file systems of the node's single-binary images, written into DIR.
rootfs_of() {
  local name=$1 dir=$2 applet
  mkdir -p "$dir/etc" "$dir/tmp"
  chmod 1777 "$dir/tmp"
  printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\nnogroup:x:65534:\n' >"$dir/etc/group"
  case "$name" in
    pause)
      command -v gcc >/dev/null || die "pause needs gcc and libc6-dev (apt-get install gcc libc6-dev)"
      gcc -Os -static -o "$dir/pause" "$HACK_DIR/images/pause/pause.c"
      strip "$dir/pause" ;;
    busybox)
      [ -x /bin/busybox ] || die "busybox needs Debian's busybox-static (apt-get install busybox-static)"
      mkdir -p "$dir/bin"
      cp /bin/busybox "$dir/bin/busybox"
      for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"; done ;;
    *) cp "$("$HACK_DIR/binaries.sh" path "$name")" "$dir/$name" ;;
  esac
}

image_config_of() {
  case "$1" in
    pause) printf '%s\n' 'ENTRYPOINT ["/pause"]' 'USER 65535:65535' ;;
    busybox) printf '%s\n' 'CMD ["sh"]' 'ENV PATH=/bin' ;;
    coredns) printf '%s\n' 'ENTRYPOINT ["/coredns"]' ;;
    local-path-provisioner) printf '%s\n' 'ENTRYPOINT ["/local-path-provisioner"]' 'ENV PATH=/' ;;
    *) printf '%s\n' "ENTRYPOINT [\"/$1\"]" 'USER 65532:65532' ;;
  esac
}

# A single-layer image of one binary, imported from a reproducible tar of its root file system, and
# only when that tar changed (a new import would invalidate nothing, but it would churn image IDs).
build_rootfs_image() {
  local name=$1 ref dir="$WORK/rootfs-$1" key change changes=()
  ref=$(ref_of "$name")
  rootfs_of "$name" "$dir"
  tar -C "$dir" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$dir.tar" .
  key=$({ sha256sum <"$dir.tar"; image_config_of "$name"; } | sha256sum | cut -c1-16)
  [ "$(label_of "$ref")" = "$key" ] && return 0
  while read -r change; do changes+=(--change "$change"); done < <(image_config_of "$name")
  podman import --quiet "${changes[@]}" --change "LABEL $KEY_LABEL=$key" "$dir.tar" "$ref" >/dev/null
  log "built $ref ($(du -h "$dir.tar" | cut -f1))"
}

build() {
  local names=("$@") name started
  ((${#names[@]} > 0)) || names=(assistant operator)
  for name in "${names[@]}"; do ref_of "$name" >/dev/null; done
  install_tools
  started=$(date +%s)
  build_debian_base
  case " ${names[*]} " in *" assistant "* | *" operator "*) build_node_base ;; esac
  for name in "${names[@]}"; do
    case "$name" in
      assistant | operator) build_dockerfile "$name" "$ROOT/$name/Dockerfile" "$ROOT" --build-arg "NODE_IMAGE=$NODE_REF" ;;
      postgres)
        build_dockerfile postgres "$HACK_DIR/images/postgres/Containerfile" "$HACK_DIR/images/postgres" --build-arg "DEBIAN_IMAGE=$DEBIAN_REF" \
          $(bash "$HACK_DIR/pgvector.sh" --print-build-args) ;;
      *) build_rootfs_image "$name" ;;
    esac
  done
  log "${names[*]}: ready in $(elapsed "$started")"
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
  done
  log "saved ${names[*]} to $dir"
}

case "${1:-}" in
  build) shift; build "$@" ;;
  ref) [ $# -eq 2 ] || die "usage: hack/images.sh ref NAME"; ref_of "$2" ;;
  save) [ $# -ge 2 ] || die "usage: hack/images.sh save DIR [NAME...]"; shift; save "$@" ;;
  podman) shift; podman "$@" ;;
  *) echo "usage: hack/images.sh build [NAME...] | ref NAME | save DIR [NAME...] | podman ARGS... (NAME: ${ALL_IMAGES[*]})" >&2; exit 2 ;;
esac
