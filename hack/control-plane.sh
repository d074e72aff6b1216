#!/usr/bin/env bash
# A real, local Kubernetes control plane on loopback, for tests and for trying the operator.
#
#   eval "$(hack/control-plane.sh up)"         etcd + kube-apiserver
#   eval "$(hack/control-plane.sh up --full)"  + kube-controller-manager, kube-scheduler, kwok and
#                                              two simulated nodes, so pods become Running/Ready
#                                              (hack/kwok/pod-stages.yaml: a pod annotated
#                                              kwok.aiassistant.dev/ready=false never gets Ready)
#   eval "$(hack/control-plane.sh up --real)"  the control plane and one real node (containerd, kubelet,
#                                              kube-proxy, CoreDNS, metrics-server, a StorageClass) in a
#                                              network namespace of its own (hack/real-node.sh)
#   hack/control-plane.sh exec -- CMD...       run CMD inside the real node's namespace, KUBECONFIG set
#   hack/control-plane.sh env [DIR]            print the export lines of a running control plane again
#   hack/control-plane.sh down [DIR]           stop it and remove its folder (the real node's, when
#                                              DIR is its folder or when no DIR is given and one runs)
#
# `up` prints `export KUBECONFIG=...` and `export AIA_CONTROL_PLANE_DIR=...`; `down` and `env` take
# that folder as an argument or from AIA_CONTROL_PLANE_DIR. Every run picks free ports and its
# own temporary folder, so two runs never collide. Logs are in the folder while it runs.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MARKER=.aia-control-plane
READY_TIMEOUT=${AIA_CONTROL_PLANE_TIMEOUT:-90}
NODE_COUNT=2

log() { printf '%s\n' "control-plane: $*" >&2; }
die() { log "$*"; exit 1; }

bin() { "$HACK_DIR/binaries.sh" path "$1"; }

# free_ports N -> N distinct free TCP ports on 127.0.0.1, held open together while chosen.
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = Array.from({ length: n }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", () => ok(s.address().port)))))
      .then((ports) => { console.log(ports.join(" ")); servers.forEach((s) => s.close()); });
  ' "$1"
}

gen_certs() {
  local dir=$1 pki=$1/pki
  mkdir -p "$pki"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 30 \
    -subj "/CN=aia-local-control-plane-ca" 2>/dev/null
  sign() { # sign NAME SUBJECT EXTENSIONS
    openssl req "${ec[@]}" -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "$2" 2>/dev/null
    printf '%s\n' "$3" >"$pki/$1.ext"
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -out "$pki/$1.crt" -days 30 -extfile "$pki/$1.ext" 2>/dev/null
  }
  sign apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
  sign admin "/O=system:masters/CN=aia-admin" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

write_kubeconfig() {
  local dir=$1 port=$2
  cat >"$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: aia-local
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $dir/pki/ca.crt
users:
- name: aia-admin
  user:
    client-certificate: $dir/pki/admin.crt
    client-key: $dir/pki/admin.key
contexts:
- name: aia-local
  context: {cluster: aia-local, user: aia-admin}
current-context: aia-local
KUBECONFIG
}

# start NAME BINARY ARGS... runs a component in its own session, logging to DIR/NAME.log.
start() {
  local name=$1 binary=$2; shift 2
  setsid "$binary" "$@" >"$CP_DIR/$name.log" 2>&1 </dev/null &
  echo "$name $!" >>"$CP_DIR/pids"
}

check_alive() {
  local name pid
  while read -r name pid; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$CP_DIR/$name.log" >&2; die "$name exited during start-up (log above)"; }
  done <"$CP_DIR/pids"
}

wait_until() { # wait_until DESCRIPTION COMMAND...
  local what=$1 deadline=$((SECONDS + READY_TIMEOUT)); shift
  until "$@" >/dev/null 2>&1; do
    check_alive
    ((SECONDS < deadline)) || die "timed out after ${READY_TIMEOUT}s waiting for $what"
    sleep 0.5
  done
}

apiserver_ready() {
  [[ "$(curl -sf --cacert "$CP_DIR/pki/ca.crt" --cert "$CP_DIR/pki/admin.crt" --key "$CP_DIR/pki/admin.key" \
    "https://127.0.0.1:$1/readyz")" == ok ]]
}

kwok_nodes() {
  local i
  for ((i = 0; i < NODE_COUNT; i++)); do
    cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, topology.kubernetes.io/zone: zone-$i}
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
NODE
  done
}

up() {
  local full=false
  [[ "${1:-}" == --full ]] && full=true
  local etcd apiserver kubectl
  etcd=$(bin etcd); apiserver=$(bin kube-apiserver); kubectl=$(bin kubectl)
  if $full; then bin kube-controller-manager >/dev/null; bin kube-scheduler >/dev/null; bin kwok >/dev/null; fi

  CP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/aia-control-plane.XXXXXX")
  touch "$CP_DIR/$MARKER" "$CP_DIR/pids"
  trap 'log "start-up failed; cleaning up"; down "$CP_DIR" >/dev/null 2>&1 || true' ERR EXIT

  local etcd_port peer_port api_port kcm_port sched_port kwok_port
  read -r etcd_port peer_port api_port kcm_port sched_port kwok_port < <(free_ports 6)
  gen_certs "$CP_DIR"
  write_kubeconfig "$CP_DIR" "$api_port"
  local kubeconfig=$CP_DIR/kubeconfig pki=$CP_DIR/pki

  start etcd "$etcd" --name=aia --data-dir="$CP_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="aia=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level=warn

  # Every write request is audited, so tests can count what a controller really sends.
  cat >"$CP_DIR/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
POLICY
  start kube-apiserver "$apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --audit-policy-file="$CP_DIR/audit-policy.yaml" --audit-log-path="$CP_DIR/audit.log" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --cert-dir="$CP_DIR/apiserver" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --authorization-mode=RBAC --allow-privileged=true \
    --service-account-issuer="https://127.0.0.1:$api_port" --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" --service-cluster-ip-range=10.96.0.0/16 \
    --endpoint-reconciler-type=none --enable-admission-plugins=OwnerReferencesPermissionEnforcement
  wait_until "kube-apiserver /readyz" apiserver_ready "$api_port"

  if $full; then
    local common=(--kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig"
      --authorization-kubeconfig="$kubeconfig" --bind-address=127.0.0.1 --leader-elect=false)
    start kube-controller-manager "$(bin kube-controller-manager)" "${common[@]}" --secure-port="$kcm_port" \
      --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
      --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
      --use-service-account-credentials=false
    start kube-scheduler "$(bin kube-scheduler)" "${common[@]}" --secure-port="$sched_port"
    start kwok "$(bin kwok)" --kubeconfig="$kubeconfig" --server-address="127.0.0.1:$kwok_port" \
      --config="$HACK_DIR/kwok/pod-stages.yaml" \
      --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
      --cidr=10.244.0.0/16 --node-ip=10.244.0.1 --node-lease-duration-seconds=40
    kwok_nodes | "$kubectl" --kubeconfig="$kubeconfig" apply -f - >/dev/null
    wait_until "the kwok nodes to be Ready" \
      "$kubectl" --kubeconfig="$kubeconfig" wait --for=condition=Ready node --all --timeout=2s
    wait_until "the default ServiceAccount" \
      "$kubectl" --kubeconfig="$kubeconfig" get serviceaccount default --namespace=default
  fi

  cat >"$CP_DIR/env" <<ENV
export KUBECONFIG=$kubeconfig
export AIA_CONTROL_PLANE_DIR=$CP_DIR
ENV
  trap - ERR EXIT
  cat "$CP_DIR/env"
  log "ready ($($full && echo full || echo api-only)); stop it with: hack/control-plane.sh down $CP_DIR"
}

resolve_dir() {
  local dir=${1:-${AIA_CONTROL_PLANE_DIR:-}}
  [[ -n "$dir" ]] || die "which control plane? pass its folder or set AIA_CONTROL_PLANE_DIR (printed by 'up')"
  [[ -f "$dir/$MARKER" ]] || die "$dir is not a control-plane folder made by 'up'"
  echo "$dir"
}

down() {
  local dir name pid
  dir=$(resolve_dir "${1:-}")
  # Stop in reverse start order: the clients before the API server, the API server before etcd.
  local pids=()
  if [[ -s "$dir/pids" ]]; then
    while read -r name pid; do pids=("$pid" "${pids[@]}"); done <"$dir/pids"
  fi
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

REAL_NODE="$HACK_DIR/real-node.sh"
# is_real_node [DIR]: DIR (or AIA_CONTROL_PLANE_DIR) is the real node's folder, or none is named and a real node exists.
is_real_node() {
  local dir=${1:-${AIA_CONTROL_PLANE_DIR:-}} real
  real=$("$REAL_NODE" dir)
  [[ $dir == "$real" ]] || { [[ -z $dir ]] && [[ -e $real || -e /run/netns/aia-node ]]; }
}

case "${1:-}" in
  up) shift; if [[ ${1:-} == --real ]]; then exec "$REAL_NODE" up; fi; up "$@" ;;
  exec) shift; exec "$REAL_NODE" exec "$@" ;;
  down) shift; if is_real_node "${1:-}"; then exec "$REAL_NODE" down; fi; down "$@" ;;
  env) shift; if is_real_node "${1:-}"; then exec "$REAL_NODE" env; fi; cat "$(resolve_dir "${1:-}")/env" ;;
  *) echo "usage: $0 up [--full|--real] | exec -- CMD... | env [DIR] | down [DIR]" >&2; exit 2 ;;
esac
