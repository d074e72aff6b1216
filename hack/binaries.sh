#!/usr/bin/env bash
# Finds or builds the pinned upstream binaries the tests and the local control plane run:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok, helm, and for the
# real node kubelet, kube-proxy, metrics-server, coredns and local-path-provisioner.
#
#   hack/binaries.sh ensure [NAME...]   build what is missing (all by default), print nothing else
#   hack/binaries.sh path NAME          print the absolute path of NAME, building it if needed
#   hack/binaries.sh version NAME       print the version NAME is pinned at
#   hack/binaries.sh versions           print each binary's pinned version and where it comes from
#
# The pins are the go.mod files under hack/tools/<module>/ (one Go module per upstream project,
# so their dependency graphs never have to agree). A folder named by KUBEBUILDER_ASSETS wins for
# every binary it holds (controller-runtime's envtest convention); the rest are built with the
# local Go toolchain from the Go module proxy into a cache outside the repo, keyed by version and
# by the module's go.sum, and reused on later runs.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_DIR="$HACK_DIR/tools"
CACHE_ROOT=${AIA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-assistant-operator/tools}
ALL_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy etcd kwok helm metrics-server coredns local-path-provisioner)
MODULES=(kubernetes etcd kwok helm metrics-server coredns local-path-provisioner)

log() { printf '%s\n' "binaries: $*" >&2; }

# module_of NAME -> the hack/tools module that builds NAME
module_of() {
  case "$1" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl | kubelet | kube-proxy) echo kubernetes ;;
    etcd | kwok | helm | metrics-server | coredns | local-path-provisioner) echo "$1" ;;
    *) log "unknown binary '$1' (known: ${ALL_BINARIES[*]})"; return 1 ;;
  esac
}

# package_of NAME -> the Go main package that is NAME
package_of() {
  case "$1" in
    kube*) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo "go.etcd.io/etcd/server/v3" ;;
    kwok) echo "sigs.k8s.io/kwok/cmd/kwok" ;;
    helm) echo "helm.sh/helm/v3/cmd/helm" ;;
    metrics-server) echo "sigs.k8s.io/metrics-server/cmd/metrics-server" ;;
    coredns) echo "github.com/coredns/coredns" ;;
    local-path-provisioner) echo "github.com/rancher/local-path-provisioner" ;;
  esac
}

# pinned_module MODULE -> the upstream module path that MODULE's go.mod requires directly
pinned_module() {
  case "$1" in
    kubernetes) echo k8s.io/kubernetes ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    kwok) echo sigs.k8s.io/kwok ;;
    helm) echo helm.sh/helm/v3 ;;
    metrics-server) echo sigs.k8s.io/metrics-server ;;
    coredns) echo github.com/coredns/coredns ;;
    local-path-provisioner) echo github.com/rancher/local-path-provisioner ;;
  esac
}

pinned_version() {
  local module=$1
  awk -v m="$(pinned_module "$module")" '$1 == "require" && $2 == m { print $3 } $1 == m { print $2 }' \
    "$TOOLS_DIR/$module/go.mod" | head -n 1
}

cache_dir_of() {
  local module=$1 sum
  # Content only: the key must not depend on where the checkout lives.
  sum=$(cat "$TOOLS_DIR/$module/go.mod" "$TOOLS_DIR/$module/go.sum" | sha256sum | cut -c1-12)
  echo "$CACHE_ROOT/$module-$(pinned_version "$module")-$sum"
}

# ldflags MODULE VERSION -> the version stamps upstream's own release builds set
ldflags_of() {
  local module=$1 version=$2 minor
  case "$module" in
    kubernetes)
      minor=$(echo "$version" | cut -d. -f2)
      local pkg
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
          "$pkg" "$version" "$pkg" "$pkg" "$minor" "$pkg"
      done ;;
    kwok) printf -- '-X sigs.k8s.io/kwok/pkg/consts.Version=%s ' "$version" ;;
    helm) printf -- '-X helm.sh/helm/v3/internal/version.version=%s -X helm.sh/helm/v3/internal/version.gitTreeState=clean ' "$version" ;;
    metrics-server) printf -- '-X k8s.io/component-base/version.gitVersion=%s ' "$version" ;;
  esac
  printf -- '-s -w'
}

from_assets() {
  local name=$1
  [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/$name" ]] && echo "$KUBEBUILDER_ASSETS/$name"
}

# build_module MODULE NAME... builds the named binaries of one module into its cache folder.
# A lock serialises concurrent runs; the build lands in a temporary folder and is renamed into
# place, so an interrupted build never leaves a half-written binary behind.
build_module() {
  local module=$1; shift
  local dir version packages=() name started
  dir=$(cache_dir_of "$module")
  version=$(pinned_version "$module")
  mkdir -p "$CACHE_ROOT"
  exec {lock}>"$CACHE_ROOT/.$module.lock"
  flock "$lock"
  local missing=()
  for name in "$@"; do [[ -x "$dir/$name" ]] || missing+=("$name"); done
  if ((${#missing[@]} > 0)); then
    command -v go >/dev/null || { log "Go is needed to build ${missing[*]} (or set KUBEBUILDER_ASSETS)"; return 1; }
    for name in "${missing[@]}"; do packages+=("$(package_of "$name")"); done
    log "building ${missing[*]} $version from the Go module proxy: once, then cached (a cold Go cache takes minutes per module on 2 cores)"
    started=$(date +%s)
    local tmp ticker
    tmp=$(mktemp -d "$CACHE_ROOT/.build-$module.XXXXXX")
    # go build is silent until it is done: say every 30 s that it still runs.
    (while sleep 30; do log "still building ${missing[*]} ($(($(date +%s) - started))s)"; done) &
    ticker=$!
    (cd "$TOOLS_DIR/$module" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 \
      go build -trimpath -ldflags "$(ldflags_of "$module" "$version")" -o "$tmp/" "${packages[@]}") || { kill "$ticker"; return 1; }
    kill "$ticker"
    # etcd's main package is go.etcd.io/etcd/server/v3, which Go names "server".
    if [[ -x "$tmp/server" ]]; then mv "$tmp/server" "$tmp/etcd"; fi
    mkdir -p "$dir"
    for name in "${missing[@]}"; do mv "$tmp/$name" "$dir/$name"; done
    rm -rf "$tmp"
    log "built ${missing[*]} in $(($(date +%s) - started))s into $dir"
  fi
  exec {lock}>&-
}

path_of() {
  local name=$1 module
  module=$(module_of "$name")
  from_assets "$name" && return 0
  build_module "$module" "$name"
  echo "$(cache_dir_of "$module")/$name"
}

ensure() {
  local names=("$@") name module
  ((${#names[@]} > 0)) || names=("${ALL_BINARIES[@]}")
  for module in "${MODULES[@]}"; do
    local wanted=()
    for name in "${names[@]}"; do
      [[ "$(module_of "$name")" == "$module" ]] && ! from_assets "$name" >/dev/null && wanted+=("$name")
    done
    ((${#wanted[@]} == 0)) || build_module "$module" "${wanted[@]}"
  done
}

versions() {
  local name module source
  for name in "${ALL_BINARIES[@]}"; do
    module=$(module_of "$name")
    if from_assets "$name" >/dev/null; then source="KUBEBUILDER_ASSETS ($KUBEBUILDER_ASSETS)"; else source="$(cache_dir_of "$module")"; fi
    printf '%-24s %-10s %s\n' "$name" "$(pinned_version "$module")" "$source"
  done
}

case "${1:-}" in
  ensure) shift; ensure "$@" ;;
  path) [[ $# -eq 2 ]] || { log "usage: $0 path NAME"; exit 2; }; path_of "$2" ;;
  versions) versions ;;
  version) [[ $# -eq 2 ]] || { log "usage: $0 version NAME"; exit 2; }; pinned_version "$(module_of "$2")" ;;
  *) echo "usage: $0 ensure [NAME...] | path NAME | version NAME | versions" >&2; exit 2 ;;
esac
