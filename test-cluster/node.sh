#!/usr/bin/env bash
# A real Kubernetes node on this machine for the test suite: containerd + runc + CNI plugins (Debian
# packages), kubelet, kube-scheduler and kube-proxy (the multi-call binary the control plane unpacked),
# joined to the control plane that `test-cluster/control-plane.sh start DIR` runs.
#   test-cluster/node.sh up DIR [--owner PID]   start the node; Ready when it returns. With --owner,
#                                    a watchdog runs `down` once process PID has gone
#   test-cluster/node.sh down DIR    stop all it started, put the host back as it was, then check
#   test-cluster/node.sh check DIR   only the check: exits 1 naming what the node left (anything of its
#                                    kinds that was not there before `up`, or a sysctl not as it was)
# Needs root. State, logs and the host's state before `up` live in DIR/node. Env: NODE_NAME (the host
# name), POD_CIDR (10.244.0.0/24; its first address, the pod gateway, is in the API server's certificate),
# NODE_TIMEOUT (120 s), NODE_APT (1: apt-get installs missing packages; 0: fail instead).
#
# What the host gets, and `down` takes back: processes (each recorded with its binary, so that only ours
# are stopped), containerd's shims and containers, mounts under the kubelet's and containerd's dirs and
# the pods' netns, links (bridge cni0, veths, and Hearth's bridge and taps), nftables tables and
# iptables chains (kubelet's KUBE-*, kube-proxy's tables), cgroups (kubepods in every hierarchy) and
# sysctls (kubelet sets kernel.panic, kernel.panic_on_oops, vm.overcommit_memory; the CNI bridge sets
# ip_forward). Kept as caches: the Debian packages and containerd's image store (/var/lib/containerd).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:-} PLANE=${2:-} OWNER=
[ "${3:-}" = --owner ] && OWNER=${4:?--owner needs a PID}
[ -n "$cmd" ] && [ -n "$PLANE" ] || { sed -n '4,8p' "$0" >&2; exit 2; }
PLANE=$(cd "$PLANE" && pwd)
N="$PLANE/node" R="$PLANE/node/run" L="$PLANE/node/log" B="$PLANE/node/before"
NODE_NAME=${NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}
POD_CIDR=${POD_CIDR:-10.244.0.0/24}
GW=${POD_CIDR%.*/*}.1
BRIDGE=cni0 CNI_CONF=/etc/cni/net.d/10-hearth-test.conflist
CTR_SOCK=/run/containerd/containerd.sock
export KUBECONFIG="$PLANE/kubeconfig"
t0=$(date +%s%N)
log() { printf '== node [%5.1fs] %s\n' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3" "$*" >&2; }
die() { echo "node.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

# The multi-call Kubernetes binary that control-plane.sh unpacked: its kubectl names the folder.
kube_bin() {
  local d
  for d in "${KUBE_BIN:-}" "$(sed -n 's/^BIN=//p' "$PLANE/env" 2>/dev/null)" "$PLANE/bin"; do
    [ -n "$d" ] && [ -x "$d/kubelet" ] && [ -x "$d/kube-proxy" ] && { echo "$d"; return; }
  done
  die "no kubelet/kube-proxy beside the control plane (set KUBE_BIN to the unpacked binaries)"
}

# --- processes: each in a session of its own; its PID and binary recorded, so that `down` stops only it
alive() { local pid exe; [ -f "$R/$1.pid" ] && read -r pid exe < "$R/$1.pid" && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]; }
launch() { # launch NAME BINARY ARGS...
  local n=$1 b; b=$(readlink -f "$(command -v "$2")"); shift
  setsid sh -c 'echo "$$ $1" > "$0"; shift; exec "$@"' "$R/$n.pid" "$b" "$@" </dev/null >>"$L/$n.log" 2>&1 &
  for _ in $(seq 100); do [ -s "$R/$n.pid" ] && return; sleep 0.02; done
}
stop() { # stop NAME: SIGTERM, SIGKILL after 15 s
  local pid exe
  alive "$1" || { rm -f "$R/$1.pid"; return 0; }
  read -r pid exe < "$R/$1.pid"; kill -TERM "$pid"
  for _ in $(seq 150); do alive "$1" || break; sleep 0.1; done
  alive "$1" && kill -KILL "$pid"; rm -f "$R/$1.pid"; log "stopped $1 ($pid)"
}
k() { timeout 30 "$(kube_bin)/kubectl" "$@"; }
ctr_() { timeout 60 ctr --address "$CTR_SOCK" -n k8s.io "$@"; }

# --- the host's state, in a form to compare and restore
# Only what a node makes is recorded, checked and taken back: other tests on this host may have
# network namespaces (/run/netns), links, tables and cgroups of their own at the same time.
WATCHED_MOUNTS='^(/var/lib/kubelet|/run/containerd|/var/lib/containerd|/run/netns/cni-|/var/lib/hearth|/run/hearth)'
WATCHED_LINKS='^(cni0|hearth0|veth[0-9a-f]+|hth[0-9a-f]+)$'
WATCHED_TABLES='^table (ip|ip6) (filter|nat|mangle|kube-proxy)$|^table (ip|bridge|inet) hearth$'
VOLATILE='^(kernel\.random|kernel\.ns_last_pid|kernel\.pty\.nr|fs\.(dentry|inode|file)-|fs\.quota|net\.netfilter\.nf_conntrack_count|net\.(ipv4|ipv6)\.(conf|neigh)\.(veth|cni|hearth|tap)|kernel\.sched_domain)'
snapshot() { # snapshot DIR
  mkdir -p "$1"
  sysctl -a 2>/dev/null | grep -vE "$VOLATILE" | sort > "$1/sysctl" || true
  nft list tables 2>/dev/null | grep -E "$WATCHED_TABLES" | sort > "$1/nft" || true
  { iptables-save; ip6tables-save; } 2>/dev/null | grep -E '^(:(KUBE|CNI)|-A .*(KUBE|CNI)-)' | sed 's/ \[[0-9:]*\]$//' | sort > "$1/iptables" || true
  ip -o link | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -E "$WATCHED_LINKS" | sort > "$1/links" || true
  awk '{print $5}' /proc/self/mountinfo | grep -E "$WATCHED_MOUNTS" | sort > "$1/mounts" || true
  ls -d /sys/fs/cgroup/kubepods* /sys/fs/cgroup/*/kubepods* 2>/dev/null | sort > "$1/cgroups" || true
  ls -d /etc/cni /etc/cni/net.d /var/lib/kubelet /run/containerd /var/lib/cni /var/log/pods /var/log/containers /run/hearth "$CNI_CONF" 2>/dev/null | sort > "$1/paths" || true
  # (not zombies: one whose parent is gone waits for an init that may never reap it)
  ps -eo pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 ~ /^(containerd|containerd-shim|kubelet|kube-proxy|kube-scheduler)$/ {print $1, $3}' | sort > "$1/procs"
}

up() {
  mkdir -p "$R" "$L" "$N/pki"; chmod 700 "$N"
  local KB; KB=$(kube_bin)
  k get --raw /readyz >/dev/null 2>&1 || die "no control plane answers with $KUBECONFIG (run test-cluster/control-plane.sh start $PLANE)"

  # 0. packages: containerd 1.6, runc, CNI plugins; iptables and nft for the kubelet and kube-proxy
  local p missing=()
  for p in containerd runc containernetworking-plugins iptables nftables conntrack socat; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "${NODE_APT:-1}" = 1 ] || die "missing Debian packages: ${missing[*]}"
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$L/apt.log" 2>&1 \
      || { tail -5 "$L/apt.log" >&2; die "apt-get install failed (log: $L/apt.log)"; }
  fi

  # 1. the host before anything (once: a second `up` keeps the first snapshot)
  [ -f "$B/sysctl" ] || snapshot "$B"
  grep -q . "$B/procs" && die "already running, not started by this script: $(tr '\n' ';' < "$B/procs")"

  # 2. credentials signed by the control plane's CA; the node is bound to system:node (RBAC only, no
  #    Node authorizer), the scheduler and kube-proxy to their default roles
  local ca=${PLANE_CA:-$PLANE/pki/ca}
  [ -f "$ca.key" ] || die "no CA key $ca.key to sign the node's certificates (set PLANE_CA=<path without .crt/.key>)"
  local server; server=$(sed -n 's/^ *server: *//p' "$KUBECONFIG" | head -1)
  cred() { # cred NAME SUBJECT: a client certificate and NAME.kubeconfig
    if [ ! -f "$N/pki/$1.crt" ] || ! openssl verify -CAfile "$ca.crt" "$N/pki/$1.crt" >/dev/null 2>&1; then
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$N/pki/$1.key" -subj "$2" 2>/dev/null \
        | openssl x509 -req -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 365 -out "$N/pki/$1.crt" \
            -extfile <(echo extendedKeyUsage=clientAuth) 2>/dev/null
    fi
    cat > "$N/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: plane, cluster: {server: "$server", certificate-authority: "$ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$N/pki/$1.crt", client-key: "$N/pki/$1.key"}}]
contexts: [{name: plane, context: {cluster: plane, user: $1}}]
current-context: plane
EOF
  }
  cred kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  cred scheduler /CN=system:kube-scheduler
  cred proxy /CN=system:kube-proxy
  k create clusterrolebinding "test-node:$NODE_NAME" --clusterrole=system:node --user="system:node:$NODE_NAME" \
    --dry-run=client -o yaml | k apply -f - >/dev/null

  # 3. containerd. No process here may lower an oom_score_adj when CAP_SYS_RESOURCE is not in the
  #    bounding set: runc then fails every pod sandbox (kubelet asks -998) with "can't get final child's
  #    PID from pipe: EOF", unless containerd clamps the scores.
  local restrict=false
  (( (0x$(awk '/^CapBnd/{print $2}' /proc/self/status) >> 24) & 1 )) || restrict=true
  cat > "$N/containerd.toml" <<EOF
version = 2
[grpc]
  address = "$CTR_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/hearth-test/pause:1"
  restrict_oom_score_adj = $restrict
  disable_hugetlb_controller = true
  tolerate_missing_hugetlb_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
  if ! alive containerd; then
    [ -S "$CTR_SOCK" ] && ctr --address "$CTR_SOCK" version >/dev/null 2>&1 && die "another containerd serves $CTR_SOCK"
    log "containerd"; launch containerd containerd --config "$N/containerd.toml"
  fi
  for _ in $(seq 150); do ctr --address "$CTR_SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
  alive containerd || { tail -5 "$L/containerd.log" >&2; die "containerd exited"; }
  "$HERE/images.sh" pause >/dev/null

  # 4. CNI: a bridge with host-local addresses and no masquerade (pods only need the node). The bridge
  #    is made here so that the API forwarder can listen on its gateway address before any pod exists.
  mkdir -p /etc/cni/net.d
  cat > "$CNI_CONF" <<EOF
{"cniVersion": "1.0.0", "name": "hearth-test", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$GW"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge && ip addr add "$GW/${POD_CIDR#*/}" dev "$BRIDGE" && ip link set "$BRIDGE" up
  fi

  # 5. pods reach the API server: it listens on loopback, so a forwarder on the pod gateway, and the
  #    `kubernetes` Service's endpoints point there (the Service IP and the gateway are in its certificate)
  local host=${server#https://}; host=${host%%/*}; local port=${host##*:}; host=${host%:*}
  alive api-forward || launch api-forward socat "TCP-LISTEN:$port,bind=$GW,fork,reuseaddr" "TCP:$host:$port"
  k apply -f - >/dev/null <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: hearth-test-node}
addressType: IPv4
endpoints: [{addresses: ["$GW"], conditions: {ready: true}}]
ports: [{name: https, port: $port, protocol: TCP}]
EOF

  # 6. kubelet: cgroupfs (cgroup v1 hybrid here), API on loopback only and open there (the API server
  #    has no client certificate for it; `kubectl logs` works), no eviction or image GC in the way of a
  #    test (its images are imported, never pulled)
  cat > "$N/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CTR_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}, x509: {clientCAFile: "$ca.crt"}}
authorization: {mode: AlwaysAllow}
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
registerNode: true
EOF
  local ip; ip=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  alive kubelet || { log "kubelet"; launch kubelet "$KB/kubelet" --config="$N/kubelet.yaml" \
    --kubeconfig="$N/kubelet.kubeconfig" --hostname-override="$NODE_NAME" --node-ip="${ip:-127.0.0.1}" --v=1; }

  # 7. kube-scheduler, kube-proxy (nftables; leaves conntrack sysctls alone; exits if its config changes,
  #    so it is written before it starts)
  alive scheduler || { log "kube-scheduler"; launch scheduler "$KB/kube-scheduler" --kubeconfig="$N/scheduler.kubeconfig" \
    --authentication-kubeconfig="$N/scheduler.kubeconfig" --authorization-kubeconfig="$N/scheduler.kubeconfig" \
    --leader-elect=false --secure-port=0 --v=1; }
  if ! alive proxy; then
    cat > "$N/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$N/proxy.kubeconfig"}
mode: nftables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
    log "kube-proxy"; launch proxy "$KB/kube-proxy" --config="$N/kube-proxy.yaml" --v=1
  fi

  # 8. Ready
  echo "$NODE_NAME" > "$N/name"
  for _ in $(seq $((${NODE_TIMEOUT:-120} * 2))); do
    [ "$(k get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
    for p in containerd kubelet scheduler proxy api-forward; do alive $p || { tail -20 "$L/$p.log" >&2; die "$p exited (log: $L/$p.log)"; }; done
    sleep 0.5
  done
  [ "$(k get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] \
    || die "node $NODE_NAME not Ready; see $L/kubelet.log"
  if [ -n "$OWNER" ] && ! alive watchdog; then
    launch watchdog /bin/sh -c 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; NODE_WATCHDOG=1 exec "$1" down "$2"' \
      "$OWNER" "$HERE/node.sh" "$PLANE"
  fi
  log "node $NODE_NAME Ready"
}

down() {
  set +e +o pipefail # take back all that can be, whatever fails on the way
  [ -d "$N" ] || { log "no node in $PLANE"; return 0; }
  local name; name=$(cat "$N/name" 2>/dev/null || echo "$NODE_NAME")
  [ "${NODE_WATCHDOG:-}" = 1 ] || stop watchdog
  # 1. pods leave through the kubelet while it runs (SIGTERM, CNI DEL, volumes unmounted); those that
  #    take longer than 20 s are deleted at once, which the kubelet also tears down
  if alive kubelet && k get --raw /readyz >/dev/null 2>&1; then
    log "evicting pods (NoExecute taint)"
    k taint node "$name" hearth-test/down=:NoExecute --overwrite >/dev/null 2>&1
    local i left
    for i in $(seq 60); do
      left=$(k get pods -A --field-selector "spec.nodeName=$name" -o name 2>/dev/null)
      [ -z "$left" ] && break
      [ "$i" = 40 ] && { log "force-deleting $(echo $left)"; k delete pods -A --field-selector "spec.nodeName=$name" --grace-period=0 --force >/dev/null 2>&1; }
      sleep 0.5
    done
    for i in $(seq 20); do [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for p in proxy scheduler kubelet; do stop $p; done
  # 2. containers left (a kubelet already gone, or a pod that did not leave), then containerd and its
  #    shims, which outlive it (only those serving its socket)
  if alive containerd; then
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    sleep 1
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop containerd
  for p in $(pgrep -f containerd-shim-runc-v2 || true); do
    tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "-address $CTR_SOCK" && kill -KILL "$p" && log "killed shim $p"
  done
  stop api-forward
  # 3. mounts the node made (the pods' network namespaces, volumes, rootfs), deepest first; a netns
  #    mount shows twice where /run/netns is a shared bind mount of itself, hence the passes
  local pass m
  for pass in 1 2 3; do
    for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "$WATCHED_MOUNTS" | grep -vxF -f "$B/mounts" | sort -ru); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
  done
  rm -f /run/netns/cni-*
  # 4. links the node made (the CNI bridge and veths, Hearth's bridge and taps) that were not there before
  local l
  for l in $(ip -o link | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -E "$WATCHED_LINKS"); do
    grep -qxF "$l" "$B/links" 2>/dev/null || { ip link del "$l" 2>/dev/null && log "deleted link $l"; }
  done
  # 5. nftables tables not there before (kube-proxy's, iptables-nft's, Hearth's), then iptables chains
  #    and rules named KUBE-*/CNI-* left in tables that were there before
  local t
  while read -r t; do
    grep -qxF "$t" "$B/nft" 2>/dev/null || { nft delete $t && log "deleted nft $t"; }
  done < <(nft list tables 2>/dev/null | grep -E "$WATCHED_TABLES")
  local ipt tab c
  for ipt in iptables ip6tables; do
    for tab in filter nat mangle; do
      "$ipt-save" -t $tab 2>/dev/null | grep -E '^-A ' | grep -E -- '-j (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-' | sed 's/^-A /-D /' \
        | while read -r rule; do eval "$ipt -t $tab $rule" 2>/dev/null || true; done
      for c in $("$ipt-save" -t $tab 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\).*/\1/p'); do
        "$ipt" -t $tab -F "$c" 2>/dev/null; "$ipt" -t $tab -X "$c" 2>/dev/null || true
      done
    done
  done
  # 6. the kubelet's cgroups (kubepods in every hierarchy), deepest first
  for c in $(ls -d /sys/fs/cgroup/kubepods* /sys/fs/cgroup/*/kubepods* 2>/dev/null); do
    grep -qxF "$c" "$B/cgroups" 2>/dev/null || find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  # 7. sysctls back to their values before
  if [ -f "$B/sysctl" ]; then
    snapshot "$N/now"
    comm -13 "$B/sysctl" "$N/now/sysctl" | cut -d' ' -f1 | while read -r key; do
      local was; was=$(grep -m1 "^$key = " "$B/sysctl" | cut -d' ' -f3-) || continue
      sysctl -q -w "$key=$was" 2>/dev/null && log "sysctl $key = $was (restored)"
    done
  fi
  # 8. API objects `up` made (the control plane stays up), files
  if k get --raw /readyz >/dev/null 2>&1; then
    k delete node "$name" --ignore-not-found >/dev/null
    k delete clusterrolebinding "test-node:$name" --ignore-not-found >/dev/null
    k -n default delete endpointslice kubernetes --ignore-not-found >/dev/null
  fi
  rm -rf --one-file-system /var/lib/kubelet /run/containerd /var/lib/cni /var/log/pods /var/log/containers "$CNI_CONF" "$N/now"
  rmdir /run/hearth/vsock /run/hearth 2>/dev/null || true
  rm -f /etc/cni/net.d/cni.lock # libcni's
  for d in /etc/cni/net.d /etc/cni; do grep -qxF "$d" "$B/paths" || rmdir "$d" 2>/dev/null; done
  check && rm -rf "$B"
}

check() { # what differs from the snapshot before `up` (sysctls, tables, chains, links, mounts, cgroups, paths, processes)
  set +e +o pipefail
  [ -d "$B" ] || { log "no snapshot in $B"; return 0; }
  snapshot "$N/now"
  local f diffs=""
  for f in sysctl nft iptables links mounts cgroups paths procs; do
    # what is there now and was not before (a changed sysctl shows as its new value); what went
    # meanwhile was not ours to keep
    d=$(comm -13 "$B/$f" "$N/now/$f")
    [ -n "$d" ] && diffs+="$f:"$'\n'"$d"$'\n'
  done
  rm -rf "$N/now"
  if [ -n "$diffs" ]; then echo "node.sh: the host has what it had not before 'up':" >&2; echo "$diffs" >&2; return 1; fi
  log "host as before 'up'"
}

case $cmd in
  up) up ;;
  down) down ;;
  check) check ;;
  *) sed -n '4,8p' "$0" >&2; exit 2 ;;
esac
