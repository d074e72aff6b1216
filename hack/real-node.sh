#!/usr/bin/env bash
# A control plane and one real node (containerd, runc, the CNI bridge, kubelet, kube-proxy), with
# CoreDNS, metrics-server and local-path-provisioner running as pods, all inside a network namespace
# of its own whose only default route is a black hole: no packet can leave the machine. Run through
# hack/control-plane.sh (up --real, exec, down); root only.
#
#   hack/real-node.sh up       start it (a second up while one runs says so and changes nothing)
#   hack/real-node.sh exec -- CMD...   run CMD in the namespace, KUBECONFIG set, kubectl and helm on PATH
#   hack/real-node.sh load [NAME...]   rebuild images (default: assistant operator) and import them into the node
#   hack/real-node.sh env      print the export lines
#   hack/real-node.sh status   exit 0 when it runs
#   hack/real-node.sh dir      print its state folder
#   hack/real-node.sh down     stop everything, delete the namespace, the cgroups and the state folder
#
# The pinned binaries come from hack/binaries.sh and the images from hack/images.sh, imported into the
# node's containerd under the names users pull, so the chart and the samples deploy unchanged with
# imagePullPolicy IfNotPresent. A cold first start builds both (many minutes on 2 cores); later
# ones take about 20 s.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${AIA_REAL_NODE_DIR:-/var/lib/aia-real-node}
NETNS=aia-node
NODE_NAME=aia-node
NODE_IP=192.168.254.2
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
CGROUP_ROOT=/aia-node
BLACK_HOLE=blackhole0
READY_TIMEOUT=${AIA_CONTROL_PLANE_TIMEOUT:-120}
NODE_IMAGES=(pause busybox coredns metrics-server local-path-provisioner assistant operator postgres)
# Debian packages the node needs: the runtime, the network plumbing, and gcc + libc6-dev + busybox-static for the
# pause and helper images.
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables nftables iproute2 util-linux conntrack openssl curl gcc libc6-dev busybox-static)

PKI=$STATE/pki
ADMIN_KUBECONFIG=$PKI/admin.kubeconfig
SOCKET=$STATE/containerd/containerd.sock

log() { printf '%s\n' "real-node: $*" >&2; }
die() { log "$*"; exit 1; }
bin() { "$HACK_DIR/binaries.sh" path "$1"; }
since() { echo "$(($(date +%s) - $1))s"; }
# alive PID: running and not a zombie (a daemon re-parented to init is reaped late).
alive() { local state; state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [[ $state != Z ]]; }
pid_of() { awk -v name="$1" '$1 == name { print $2 }' "$STATE/pids" 2>/dev/null; }
in_netns() { nsenter --net="/run/netns/$NETNS" -- "$@"; }
# Daemons and ctr share the holder's network and private mount namespaces.
in_holder() { nsenter -t "$(pid_of holder)" --net --mount -- "$@"; }
ctr_() { in_holder ctr --address "$SOCKET" "$@"; }
kubectl_() { in_netns "$(bin kubectl)" --kubeconfig="$ADMIN_KUBECONFIG" "$@"; }

running() {
  [[ -s $STATE/pids ]] || return 1
  local name pid
  while read -r name pid; do alive "$pid" || return 1; done <"$STATE/pids"
  kubectl_ get --raw /readyz >/dev/null 2>&1
}

print_env() {
  cat <<ENV
export KUBECONFIG=$ADMIN_KUBECONFIG
export AIA_CONTROL_PLANE_DIR=$STATE
ENV
  log "the API, pods and Services are reachable only inside the namespace: hack/control-plane.sh exec -- kubectl get pods -A"
}

ensure_packages() {
  local missing=() package
  for package in "${NODE_PACKAGES[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The OCI archives of the named images, kept per image ID, so an unchanged image is not saved again.
image_archives() {
  local name id archive dir="${AIA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-assistant-operator/tools}/images/oci"
  mkdir -p "$dir"
  for name in "$@"; do
    id=$("$HACK_DIR/images.sh" podman image inspect --format '{{ .Id }}' "$("$HACK_DIR/images.sh" ref "$name")")
    archive="$dir/$name-${id:0:12}.oci.tar"
    if [[ ! -f $archive ]]; then
      rm -f "$dir/$name"-*.oci.tar
      "$HACK_DIR/images.sh" save "$dir/.$name" "$name" 2>/dev/null
      mv "$dir/.$name/$name.oci.tar" "$archive"
      rmdir "$dir/.$name"
    fi
    echo "$archive"
  done
}

start_netns() {
  ip netns add "$NETNS"
  in_netns ip link set lo up
  # The black hole: the kernel's dummy device where it has one, else ifb, which drops every packet
  # routed to it. It carries the node's address and the only default route.
  in_netns ip link add "$BLACK_HOLE" type dummy 2>/dev/null || in_netns ip link add "$BLACK_HOLE" type ifb
  in_netns ip addr add "$NODE_IP/32" dev "$BLACK_HOLE"
  in_netns ip link set "$BLACK_HOLE" up
  in_netns ip route add default dev "$BLACK_HOLE"
  # Per-namespace settings: pod -> Service -> pod over one bridge.
  in_netns sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1 2>/dev/null ||
    in_netns sysctl -qw net.ipv4.ip_forward=1
  # The holder keeps a private mount namespace inside the network namespace alive: every daemon joins
  # both, so container, volume and pod-namespace mounts never appear on the host and vanish at stop.
  # (`ip netns exec` would remount /sys per call and hide the cgroup file system.)
  setsid nsenter --net="/run/netns/$NETNS" -- unshare --mount --propagation private -- sleep infinity </dev/null >/dev/null 2>&1 &
  local holder=$! _
  echo "holder $holder" >>"$STATE/pids"
  for _ in $(seq 50); do [[ $(readlink "/proc/$holder/ns/mnt") != $(readlink /proc/self/ns/mnt) ]] && return 0; sleep 0.1; done
  die "the mount-namespace holder did not start"
}

start() { # start NAME COMMAND...: a daemon in the holder's namespaces, in its own session, logging to logs/NAME.log
  local name=$1; shift
  setsid nsenter -t "$(pid_of holder)" --net --mount -- "$@" >"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo "$name $!" >>"$STATE/pids"
}

wait_until() { # wait_until WHAT COMMAND...
  local what=$1 deadline=$((SECONDS + READY_TIMEOUT)) name pid; shift
  until "$@" >/dev/null 2>&1; do
    while read -r name pid; do
      alive "$pid" || { tail -n 30 "$STATE/logs/$name.log" >&2 2>/dev/null; die "$name exited while waiting for $what (log above)"; }
    done <"$STATE/pids"
    ((SECONDS < deadline)) || die "timed out after ${READY_TIMEOUT}s waiting for $what"
    sleep 0.3
  done
}

gen_certs() {
  mkdir -p "$PKI"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  ca() { openssl req -x509 "${ec[@]}" -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -days 30 -subj "/CN=$2" 2>/dev/null; }
  sign() { # sign NAME SUBJECT EXTENSIONS [CA]
    openssl req "${ec[@]}" -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "$2" 2>/dev/null
    printf '%s\n' "$3" >"$PKI/$1.ext"
    openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/${4:-ca}.crt" -CAkey "$PKI/${4:-ca}.key" -CAcreateserial \
      -out "$PKI/$1.crt" -days 30 -extfile "$PKI/$1.ext" 2>/dev/null
  }
  ca ca aia-real-node-ca
  # The aggregation layer (metrics-server) authenticates the API server by a CA of its own, as kubeadm sets it up.
  ca front-proxy-ca aia-real-node-front-proxy-ca
  sign front-proxy-client /CN=front-proxy-client "extendedKeyUsage=clientAuth" front-proxy-ca
  sign apiserver /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
  sign admin "/O=system:masters/CN=aia-admin" "extendedKeyUsage=clientAuth"
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth"
  sign kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" "subjectAltName=IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE_NAME
extendedKeyUsage=serverAuth"
  sign kube-proxy /CN=system:kube-proxy "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  local user
  for user in admin kubelet kube-proxy; do
    cat >"$PKI/$user.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: aia-real-node, cluster: {server: "https://127.0.0.1:6443", certificate-authority: $PKI/ca.crt}}]
users: [{name: $user, user: {client-certificate: $PKI/$user.crt, client-key: $PKI/$user.key}}]
contexts: [{name: aia-real-node, context: {cluster: aia-real-node, user: $user}}]
current-context: aia-real-node
KUBECONFIG
  done
}

start_control_plane() {
  start etcd "$(bin etcd)" --name=aia --data-dir="$STATE/etcd" \
    --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster=aia=http://127.0.0.1:2380 --unsafe-no-fsync --log-level=warn
  # As hack/control-plane.sh's, plus what a node needs: Node authorization, the kubelet client
  # certificate (logs, exec, metrics), the aggregation layer, and the node's address as the
  # kubernetes Service's endpoint, so that pods reach the API at 10.96.0.1.
  start kube-apiserver "$(bin kube-apiserver)" --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port=6443 \
    --cert-dir="$STATE/apiserver" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --authorization-mode=Node,RBAC --allow-privileged=true \
    --enable-admission-plugins=NodeRestriction,OwnerReferencesPermissionEnforcement \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" --service-cluster-ip-range="$SERVICE_CIDR" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key"
  wait_until "kube-apiserver /readyz" kubectl_ get --raw /readyz
  local common=(--kubeconfig="$ADMIN_KUBECONFIG" --authentication-kubeconfig="$ADMIN_KUBECONFIG"
    --authorization-kubeconfig="$ADMIN_KUBECONFIG" --bind-address=127.0.0.1 --leader-elect=false)
  start kube-controller-manager "$(bin kube-controller-manager)" "${common[@]}" --secure-port=10257 \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=false
  start kube-scheduler "$(bin kube-scheduler)" "${common[@]}" --secure-port=10259
}

start_containerd() {
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/cni/ipam"
  cat >"$STATE/containerd/config.toml" <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$SOCKET"
[ttrpc]
  address = "$SOCKET.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$("$HACK_DIR/images.sh" ref pause)"
  # No CAP_SYS_RESOURCE in this sandbox: the kubelet's -998 for the pause container is clamped to
  # containerd's own score instead of failing every sandbox.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # Pod network namespaces are pinned under the state folder, not /run/netns, where their files
  # would outlive the private mount namespace.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$STATE/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
    max_conf_num = 1
TOML
  cat >"$STATE/cni/net.d/10-aia-bridge.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "aia-pods",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$STATE/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_until "containerd" ctr_ version
  local archive
  for archive in "$@"; do ctr_ -n k8s.io images import --all-platforms "$archive" >/dev/null; done
}

# The kubelet's cgroup root, under every cgroup v1 hierarchy (cgroupfs driver), or in the v2 tree.
make_cgroup_root() {
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    mkdir -p "/sys/fs/cgroup$CGROUP_ROOT"
    return
  fi
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [[ $hierarchy == */unified/ ]] && continue
    mkdir -p "$hierarchy${CGROUP_ROOT#/}"
  done
  cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$CGROUP_ROOT/cpuset.cpus"
  cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$CGROUP_ROOT/cpuset.mems"
}

# The kubelet insists on these machine-wide kernel settings: it rewrites them, or with
# protectKernelDefaults refuses to start. Each differing one is shadowed by a plain file in the
# private mount namespace only, so the kubelet reads what it wants and the host keeps its values.
shadow_kernel_settings() {
  mkdir -p "$STATE/sysctl"
  local setting key value file
  for setting in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
    kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
    key=${setting%=*} value=${setting#*=}
    [[ $(cat "/proc/sys/$key") == "$value" ]] && continue
    file=$STATE/sysctl/${key//\//.}
    echo "$value" >"$file"
    in_holder mount --bind "$file" "/proc/sys/$key"
  done
}

start_node() {
  mkdir -p "$STATE/kubelet" "$STATE/pod-logs" "$STATE/kubelet-plugins" "$STATE/volumes"
  echo "nameserver 127.0.0.1" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
protectKernelDefaults: true
oomScoreAdj: 0
containerRuntimeEndpoint: unix://$SOCKET
imageServiceEndpoint: unix://$SOCKET
address: 0.0.0.0
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: $PKI/ca.crt}}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: $STATE/resolv.conf
podLogsDir: $STATE/pod-logs
volumePluginDir: $STATE/kubelet-plugins
podCIDR: $POD_CIDR
maxPods: 110
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
  # The kubelet hard-codes /var/log/containers for its log links; down removes what it made there.
  [[ -d /var/log/containers ]] || touch "$STATE/.made-var-log-containers"
  start kubelet "$(bin kubelet)" --config="$STATE/kubelet-config.yaml" --kubeconfig="$PKI/kubelet.kubeconfig" \
    --root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
  cat >"$STATE/kube-proxy-config.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $PKI/kube-proxy.kubeconfig}
mode: nftables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the machine-wide conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
YAML
  start kube-proxy "$(bin kube-proxy)" --config="$STATE/kube-proxy-config.yaml" --v=1
}

start_addons() {
  sed -e "s|@COREDNS_IMAGE@|$("$HACK_DIR/images.sh" ref coredns)|" \
    -e "s|@METRICS_SERVER_IMAGE@|$("$HACK_DIR/images.sh" ref metrics-server)|" \
    -e "s|@LOCAL_PATH_PROVISIONER_IMAGE@|$("$HACK_DIR/images.sh" ref local-path-provisioner)|" \
    -e "s|@BUSYBOX_IMAGE@|$("$HACK_DIR/images.sh" ref busybox)|g" \
    -e "s|@DNS_IP@|$DNS_IP|" -e "s|@VOLUMES_DIR@|$STATE/volumes|" \
    "$HACK_DIR/real-node/addons.yaml" | kubectl_ apply -f - >/dev/null
  wait_until "CoreDNS, metrics-server and local-path-provisioner to be Available" kubectl_ wait --timeout=2s --for=condition=Available \
    deployment/coredns deployment/metrics-server -n kube-system
  wait_until "local-path-provisioner to be Available" kubectl_ wait --timeout=2s --for=condition=Available deployment/local-path-provisioner -n local-path-storage
  wait_until "the metrics API" kubectl_ get --raw /apis/metrics.k8s.io/v1beta1/nodes
}

up() {
  [[ $(id -u) == 0 ]] || die "the real node needs root (network namespace, cgroups, containerd)"
  if running; then
    log "already running in network namespace $NETNS (state in $STATE); nothing changed"
    print_env
    return 0
  fi
  if [[ -e $STATE || -e /run/netns/$NETNS ]]; then log "cleaning up what an earlier run left"; down; fi
  local started step archives
  started=$(date +%s)
  log "1/7 Debian packages (containerd, runc, CNI plugins, iptables)"
  ensure_packages
  log "2/7 binaries: kubelet, kube-proxy and the control plane, metrics-server, CoreDNS, local-path-provisioner (a cold build takes many minutes)"
  "$HACK_DIR/binaries.sh" ensure etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm kubelet kube-proxy metrics-server coredns local-path-provisioner
  log "3/7 images: ${NODE_IMAGES[*]} (a cold build takes several minutes)"
  "$HACK_DIR/images.sh" build "${NODE_IMAGES[@]}"
  mapfile -t archives < <(image_archives "${NODE_IMAGES[@]}")
  mkdir -p "$STATE/logs"
  : >"$STATE/pids"
  step=$(date +%s)
  log "4/7 network namespace $NETNS (lo, and $BLACK_HOLE as the only default route) and the control plane"
  start_netns
  gen_certs
  start_control_plane
  log "5/7 containerd, with the images imported"
  start_containerd "${archives[@]}"
  make_cgroup_root
  shadow_kernel_settings
  log "6/7 kubelet and kube-proxy"
  start_node
  wait_until "node $NODE_NAME to be Ready" kubectl_ wait --timeout=2s --for=condition=Ready "node/$NODE_NAME"
  wait_until "the default ServiceAccount" kubectl_ get serviceaccount default -n default
  log "7/7 CoreDNS, metrics-server and local-path-provisioner"
  start_addons
  log "ready: node $NODE_NAME in $(since "$step") ($(since "$started") in all); stop it with: hack/control-plane.sh down"
  print_env
}

stop_pid() { # stop_pid PID TENTHS: SIGTERM, then SIGKILL after TENTHS tenths of a second
  local pid=$1 _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq "$2"); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

down() {
  local holder netns_inode="" mount_ns="" name pid dir hierarchy link
  holder=$(pid_of holder)
  [[ -e /run/netns/$NETNS ]] && netns_inode=$(stat -L -c %i "/run/netns/$NETNS")
  [[ -n $holder ]] && mount_ns=$(readlink "/proc/$holder/ns/mnt" 2>/dev/null || true)
  for name in kube-proxy kubelet; do pid=$(pid_of "$name"); [[ -n $pid ]] && stop_pid "$pid" 100; done
  # The containers go while containerd still runs.
  if [[ -n $holder ]] && alive "$holder" && [[ -S $SOCKET ]]; then
    local ctr=(timeout 20 nsenter -t "$holder" --net --mount -- ctr --address "$SOCKET" -n k8s.io) task
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
  fi
  if [[ -s $STATE/pids ]]; then
    tac "$STATE/pids" | while read -r name pid; do [[ $name == kube-proxy || $name == kubelet ]] || stop_pid "$pid" 50; done
  fi
  # What is left in the node's network or mount namespace can only be a shim or a container of ours.
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $pid == "$$" ]] && continue
    if { [[ -n $netns_inode ]] && [[ $(stat -L -c %i "$dir/ns/net" 2>/dev/null) == "$netns_inode" ]]; } ||
      { [[ -n $mount_ns ]] && [[ $(readlink "$dir/ns/mnt" 2>/dev/null) == "$mount_ns" ]]; }; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  sleep 0.5
  for hierarchy in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
    [[ -d $hierarchy${CGROUP_ROOT#/} ]] && find "$hierarchy${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  [[ -e /run/netns/$NETNS ]] && ip netns delete "$NETNS"
  if [[ -d /var/log/containers ]]; then
    for link in /var/log/containers/*; do [[ -L $link && $(readlink "$link") == "$STATE"/* ]] && rm -f "$link"; done
    [[ -f $STATE/.made-var-log-containers ]] && rmdir /var/log/containers 2>/dev/null
  fi
  # Its mounts lived in the private mount namespace, which ended with the holder.
  if grep -qF " $STATE" /proc/self/mountinfo; then die "mounts under $STATE are still present on the host"; fi
  rm -rf "$STATE"
  log "stopped; network namespace $NETNS and $STATE removed"
}

# Rebuilds images and imports them into the running node: pods started from then on run them
# (kubectl rollout restart for those already running).
load() {
  running || die "no real node runs: start one with hack/control-plane.sh up --real"
  (($# > 0)) || set -- assistant operator
  "$HACK_DIR/images.sh" build "$@"
  local archive
  for archive in $(image_archives "$@"); do ctr_ -n k8s.io images import --all-platforms "$archive" >/dev/null; done
  log "imported $* into the node's containerd"
}

exec_in() {
  [[ ${1:-} == -- ]] && shift
  (($# > 0)) || die "usage: hack/control-plane.sh exec -- COMMAND..."
  running || die "no real node runs: start one with hack/control-plane.sh up --real"
  local tools
  tools="$(dirname "$(bin kubectl)"):$(dirname "$(bin helm)")"
  exec nsenter --net="/run/netns/$NETNS" -- env KUBECONFIG="$ADMIN_KUBECONFIG" AIA_CONTROL_PLANE_DIR="$STATE" PATH="$tools:$PATH" "$@"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  exec) shift; exec_in "$@" ;;
  load) shift; load "$@" ;;
  env) running || die "no real node runs"; print_env 2>/dev/null ;;
  status) running ;;
  dir) echo "$STATE" ;;
  *) echo "usage: $0 up | exec -- COMMAND... | load [NAME...] | env | status | dir | down" >&2; exit 2 ;;
esac
