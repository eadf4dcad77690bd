#!/usr/bin/env bash
# A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager as
# plain processes on free loopback ports, with RBAC, ServiceAccount tokens and the default
# admission plugins (ValidatingAdmissionPolicy included). No kubelet: see node.sh for a node.
#
#   test-cluster/control-plane.sh start DIR [--owner PID]
#   test-cluster/control-plane.sh stop DIR
#
# start makes DIR (PKI, logs, etcd data, pids), waits until /readyz answers and the
# controller-manager has made the default ServiceAccount, then prints one line. It leaves:
#   DIR/kubeconfig   admin (system:masters) kubeconfig for kubectl, helm and fabric8
#   DIR/env          KEY=value facts: SERVER, PORT, ETCD_PORT, KUBECONFIG, CA_CERT, PKI, BIN, ...
#   DIR/pki/         ca.{crt,key} (also signs client certs, e.g. a kubelet's), apiserver, sa keys
#   DIR/logs/        one log per process
# With --owner PID a watchdog stops the control plane once process PID has gone (a test JVM
# killed before its shutdown hook ran leaves nothing behind).
# stop stops exactly the processes start recorded in DIR (each only while it still runs the
# binary it was started from), then removes etcd's data. Both are safe to repeat.
#
# Binaries (Kubernetes v1.34.9, etcd 3.5), first found wins:
#   1. $HEARTH_SHARED/kube (default <repo>/../shared/kube), unpacked once with its unpack.sh into
#      ${HEARTH_CACHE:-~/.cache/hearth}/kube/1.34.9;
#   2. $KUBE_API_TEST_DIR/k8s/1.34.9-linux-amd64 (io.fabric8:kube-api-test's layout).
# Exit status 3 means no binaries were found (the message says how to get them).
#
# The serving certificate names 127.0.0.1, localhost, 10.0.0.1 (the kubernetes Service; service
# CIDR 10.0.0.0/24), 10.0.2.2 (the host's loopback as a QEMU user-net guest sees it) and
# 10.244.0.1 (a pod bridge's gateway), so clients there can verify it.
set -euo pipefail

KUBE_VERSION=1.34.9
SERVICE_CIDR=10.0.0.0/24
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

die() { echo "control-plane: $*" >&2; exit 1; }
usage() { echo "usage: $0 start DIR [--owner PID] | stop DIR" >&2; exit 2; }

# --- binaries ---------------------------------------------------------------------------------
find_bin() { # prints the folder holding etcd and kube-apiserver, or exits 3
  local shared=${HEARTH_SHARED:-$repo/../shared}
  if [ -x "$shared/kube/unpack.sh" ]; then
    local cache=${HEARTH_CACHE:-$HOME/.cache/hearth}/kube/$KUBE_VERSION
    mkdir -p "$cache"
    # Unpack only when the cache lacks the binaries or is older than the archives; the lock
    # keeps concurrent test JVMs from writing the same files at once.
    if [ ! -x "$cache/kube-apiserver" ] || [ ! -x "$cache/etcd" ] || [ ! -f "$cache/.sha256" ] \
      || [ "$shared/kube/kube.gz" -nt "$cache/.sha256" ] || [ "$shared/kube/etcd.gz" -nt "$cache/.sha256" ]; then
      flock "$cache/.lock" "$shared/kube/unpack.sh" "$cache" >&2
    fi
    echo "$cache"; return
  fi
  local k=${KUBE_API_TEST_DIR:-}/k8s/$KUBE_VERSION-linux-amd64
  if [ -n "${KUBE_API_TEST_DIR:-}" ] && [ -x "$k/etcd" ] && [ -x "$k/kube-apiserver" ]; then
    echo "$k"; return
  fi
  echo "control-plane: no Kubernetes $KUBE_VERSION binaries: run ../shared/kube/unpack.sh, or set KUBE_API_TEST_DIR to a folder holding k8s/$KUBE_VERSION-linux-amd64/{etcd,kube-apiserver,kube-controller-manager}" >&2
  exit 3
}

# --- processes --------------------------------------------------------------------------------
ours() { # ours PIDFILE: the recorded pid still runs the binary recorded beside it
  local f=$1 pid exe
  [ -s "$f" ] && [ -s "$f.exe" ] || return 1
  pid=$(cat "$f"); exe=$(cat "$f.exe")
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]
}

launch() { # launch NAME BINARY ARGS...: run in a session of its own, record pid and binary
  local n=$1 b=$2; shift 2
  local f="$D/run/$n.pid"
  rm -f "$f"
  readlink -f "$b" > "$f.exe"
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$f" "$b" "$@" </dev/null >>"$D/logs/$n.log" 2>&1 &
  for _ in $(seq 100); do [ -s "$f" ] && return 0; sleep 0.01; done
  die "$n did not start; see $D/logs/$n.log"
}

port_free() { # no TCP socket of any state uses local port $1 (IPv4 or IPv6)
  local hex; hex=$(printf ':%04X ' "$1")
  ! grep -qs "$hex" /proc/net/tcp /proc/net/tcp6
}

free_port() { # a random free port below the ephemeral range, so outgoing connections never hold it
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    port_free "$p" && { echo "$p"; return; }
  done
  die "no free port found"
}

stop_one() { # stop_one NAME
  local f="$D/run/$1.pid" pid
  if ours "$f"; then
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do ours "$f" || break; sleep 0.05; done
    ours "$f" && kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 40); do ours "$f" || break; sleep 0.05; done
  fi
  rm -f "$f" "$f.exe"
}

cmd_stop() {
  [ -d "$D/run" ] || return 0
  # The watchdog first (unless it is the caller), so it cannot race this stop.
  [ "${CONTROL_PLANE_WATCHDOG:-}" = 1 ] || stop_one watchdog
  for n in kube-controller-manager kube-apiserver etcd; do stop_one "$n"; done
  rm -rf "$D/etcd-data"
  echo "control-plane: stopped ($D)" >&2
}

# --- PKI --------------------------------------------------------------------------------------
make_pki() {
  local p=$D/pki
  [ -f "$p/sa.pub" ] && return 0
  mkdir -p "$p"
  (
    cd "$p"
    key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }
    key ca
    openssl req -x509 -new -key ca.key -subj "/CN=hearth-test-ca" -days 3650 -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    sign() { # sign NAME SUBJECT EXTENSIONS
      key "$1"
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver "/CN=kube-apiserver" "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:10.0.2.2,IP:10.244.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    sign admin "/O=system:masters/CN=hearth-test-admin" "extendedKeyUsage=clientAuth"
    sign controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
    # The ServiceAccount token signing key pair (PKCS#8, as kube-apiserver reads it).
    key sa-ec && openssl pkcs8 -topk8 -nocrypt -in sa-ec.key -out sa.key && rm -f sa-ec.key
    openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
  )
}

write_kubeconfig() { # write_kubeconfig FILE CERTNAME
  umask 077
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hearth-test
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority-data: $(base64 -w0 < "$D/pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 < "$D/pki/$2.crt")
    client-key-data: $(base64 -w0 < "$D/pki/$2.key")
contexts:
- name: hearth-test
  context: {cluster: hearth-test, user: $2}
current-context: hearth-test
EOF
}

admin_get() { # admin_get PATH: 0 when the apiserver answers 2xx to the admin
  curl -sf --max-time 2 --cacert "$D/pki/ca.crt" --cert "$D/pki/admin.crt" --key "$D/pki/admin.key" \
    "https://127.0.0.1:$PORT$1" >/dev/null 2>&1
}

fail_with_log() { # fail_with_log NAME MESSAGE
  echo "control-plane: $2; last lines of $D/logs/$1.log:" >&2
  tail -n 8 "$D/logs/$1.log" >&2 || true
  exit 1
}

# --- start ------------------------------------------------------------------------------------
start_etcd() {
  local tries
  for tries in 1 2 3; do
    ETCD_PORT=$(free_port); local peer; peer=$(free_port)
    rm -rf "$D/etcd-data"
    launch etcd "$B/etcd" --name hearth-test --data-dir "$D/etcd-data" --unsafe-no-fsync \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "hearth-test=http://127.0.0.1:$peer" --listen-metrics-urls "" --log-level warn
    for _ in $(seq 200); do
      curl -sf --max-time 1 "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && return 0
      ours "$D/run/etcd.pid" || break   # exited: most likely a port taken meanwhile; try others
      sleep 0.05
    done
    stop_one etcd
  done
  fail_with_log etcd "etcd did not become healthy"
}

start_apiserver() {
  local tries
  for tries in 1 2 3; do
    PORT=$(free_port)
    launch kube-apiserver "$B/kube-apiserver" \
      --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT" \
      --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
      --tls-cert-file="$D/pki/apiserver.crt" --tls-private-key-file="$D/pki/apiserver.key" \
      --client-ca-file="$D/pki/ca.crt" \
      --service-account-key-file="$D/pki/sa.pub" --service-account-signing-key-file="$D/pki/sa.key" \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --api-audiences=https://kubernetes.default.svc.cluster.local \
      --service-cluster-ip-range="$SERVICE_CIDR" \
      --authorization-mode=Node,RBAC --allow-privileged=true \
      --endpoint-reconciler-type=none --profiling=false --v=1
    # An apiserver advertised on loopback publishes no usable endpoint for the kubernetes
    # Service (hence no reconciler); a node layer points that Service at its own forwarder.
    for _ in $(seq 600); do
      admin_get /readyz && return 0
      ours "$D/run/kube-apiserver.pid" || break
      sleep 0.05
    done
    grep -q "address already in use" "$D/logs/kube-apiserver.log" 2>/dev/null || break
    stop_one kube-apiserver
  done
  fail_with_log kube-apiserver "kube-apiserver did not become ready"
}

start_controller_manager() {
  if [ ! -x "$B/kube-controller-manager" ]; then
    echo "control-plane: no kube-controller-manager in $B: no garbage collection, no namespace deletion" >&2
    return 0
  fi
  write_kubeconfig "$D/run/controller-manager.kubeconfig" controller-manager
  launch kube-controller-manager "$B/kube-controller-manager" \
    --kubeconfig="$D/run/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$D/run/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$D/run/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$D/pki/sa.key" --root-ca-file="$D/pki/ca.crt" \
    --cluster-signing-cert-file="$D/pki/ca.crt" --cluster-signing-key-file="$D/pki/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*' \
    `# the default client limit (20/s) spreads its controllers' start over 5 s` \
    --kube-api-qps=500 --kube-api-burst=1000 --v=1
  # Up once its ServiceAccount controller made namespace default's ServiceAccount.
  for _ in $(seq 600); do
    admin_get /api/v1/namespaces/default/serviceaccounts/default && return 0
    ours "$D/run/kube-controller-manager.pid" || break
    sleep 0.05
  done
  fail_with_log kube-controller-manager "kube-controller-manager did not start its controllers"
}

start_watchdog() { # start_watchdog PID: stop this control plane once PID has gone
  local owner=$1
  # Should the owner be gone already, the watchdog stops this control plane at once.
  launch watchdog /bin/sh -c '
    while kill -0 "$0" 2>/dev/null; do sleep 1; done
    CONTROL_PLANE_WATCHDOG=1 exec "$1" stop "$2"' "$owner" "$here/control-plane.sh" "$D"
}

cmd_start() {
  local owner=$1 t0; t0=$(date +%s%N)
  mkdir -p "$D/run" "$D/logs"
  if ours "$D/run/kube-apiserver.pid"; then die "already running in $D (stop it first)"; fi
  [ -z "$owner" ] || kill -0 "$owner" 2>/dev/null || die "--owner $owner: no such process"
  B=$(find_bin)
  # Whatever way start fails from here, it leaves no process behind.
  trap 'rc=$?; [ $rc -eq 0 ] || cmd_stop 2>/dev/null; exit $rc' EXIT
  make_pki
  local t1; t1=$(date +%s%N)
  start_etcd
  local t2; t2=$(date +%s%N)
  start_apiserver
  local t3; t3=$(date +%s%N)
  write_kubeconfig "$D/kubeconfig" admin
  start_controller_manager
  local t4; t4=$(date +%s%N)
  [ -z "$owner" ] || start_watchdog "$owner"
  cat > "$D/env" <<EOF
SERVER=https://127.0.0.1:$PORT
PORT=$PORT
ETCD_PORT=$ETCD_PORT
KUBECONFIG=$D/kubeconfig
CA_CERT=$D/pki/ca.crt
PKI=$D/pki
BIN=$B
LOGS=$D/logs
SERVICE_CIDR=$SERVICE_CIDR
KUBERNETES_SERVICE_IP=10.0.0.1
KUBE_VERSION=$KUBE_VERSION
EOF
  ms() { echo $(( ($2 - $1) / 1000000 )); }
  echo "control-plane: ready at https://127.0.0.1:$PORT in $(ms "$t0" "$(date +%s%N)") ms" \
    "(binaries and PKI $(ms "$t0" "$t1"), etcd $(ms "$t1" "$t2"), kube-apiserver $(ms "$t2" "$t3")," \
    "kube-controller-manager $(ms "$t3" "$t4")); KUBECONFIG=$D/kubeconfig"
}

[ $# -ge 2 ] || usage
cmd=$1; D=$2; shift 2
case "$D" in /*) ;; *) D=$(pwd)/$D ;; esac
case "$cmd" in
  start)
    owner=
    while [ $# -gt 0 ]; do
      case "$1" in --owner) owner=${2:?--owner needs a PID}; shift 2 ;; *) usage ;; esac
    done
    cmd_start "$owner" ;;
  stop) [ $# -eq 0 ] || usage; cmd_stop ;;
  *) usage ;;
esac
