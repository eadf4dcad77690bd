#!/usr/bin/env bash
# Brings Hearth up in a Kind cluster: builds the jars and the two images, creates the cluster
# (cluster.yaml), loads the images into it, copies guest images into its nodes, installs the chart
# and applies examples/. Run it from anywhere; it needs Docker, kind, npm and /dev/kvm (README.md).
#   e2e/kind/up.sh              # cluster "hearth", or HEARTH_KIND_CLUSTER
#   e2e/kind/down.sh            # deletes it
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=${HEARTH_KIND_CLUSTER:-hearth}
namespace=${HEARTH_NAMESPACE:-hearth-system}
context="kind-$cluster"
version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/helm/hearth/Chart.yaml")
operator_image="hearth/operator:$version"
agent_image="hearth/agent:$version"

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'up.sh: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker not found"
docker info >/dev/null 2>&1 || die "docker is installed but no Docker engine answers (docker info failed)"
command -v kind >/dev/null || die "kind not found (see e2e/kind/README.md)"
[ -c /dev/kvm ] || die "/dev/kvm is missing on this host: Hearth's VMs need KVM"
[ -c /dev/net/tun ] || die "/dev/net/tun is missing on this host (modprobe tun)"

tools=$("$root/helm/install-tools.sh")
helm="$tools/helm"
kubectl="$tools/kubectl"

say "Building the operator and the agent (./mvnw package, tests skipped)"
(cd "$root" && ./mvnw -q -DskipTests -pl operator,node-agent -am package)
"$root/helm/sync-crds.sh"
ls "$root"/helm/hearth/crds/*.yml >/dev/null 2>&1 || die "the chart has no CRDs: crds/yaml/ is not generated yet"

say "Building $operator_image and $agent_image"
docker build -f "$root/docker/operator.Dockerfile" -t "$operator_image" "$root"
docker build -f "$root/docker/agent.Dockerfile" -t "$agent_image" "$root"

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "Reusing Kind cluster $cluster (delete it with e2e/kind/down.sh to apply cluster.yaml anew)"
else
  say "Creating Kind cluster $cluster"
  kind create cluster --name "$cluster" --config "$root/e2e/kind/cluster.yaml" --wait 120s
fi

say "Loading the images into the nodes"
kind load docker-image --name "$cluster" "$operator_image" "$agent_image"

# Image paths in a MicroVM are relative to the agent's images root, /var/lib/hearth/images; the
# examples name hello.elf and linux/{vmlinux,rootfs.ext4}.
say "Copying guest images into the workers' /var/lib/hearth/images"
hello="$root/vmm/target/guests/hello.elf"
kernel=${HEARTH_KERNEL:-}
rootfs=${HEARTH_ROOTFS:-}
for node in $(kind get nodes --name "$cluster"); do
  case "$node" in *control-plane*) continue ;; esac
  docker exec "$node" mkdir -p /var/lib/hearth/images/linux
  if [ -f "$hello" ]; then
    docker cp "$hello" "$node:/var/lib/hearth/images/hello.elf"
  fi
  if [ -n "$kernel" ] && [ -n "$rootfs" ]; then
    docker cp "$kernel" "$node:/var/lib/hearth/images/linux/vmlinux"
    docker cp "$rootfs" "$node:/var/lib/hearth/images/linux/rootfs.ext4"
  fi
done
[ -f "$hello" ] || echo "up.sh: no $hello (built by ./mvnw package of vmm): hello.yaml will report a missing kernel" >&2
if [ -z "$kernel" ] || [ -z "$rootfs" ]; then
  echo "up.sh: HEARTH_KERNEL and HEARTH_ROOTFS not both set: the Linux examples will report a missing kernel" >&2
fi

say "Installing the chart into $namespace"
"$helm" upgrade --install hearth "$root/helm/hearth" \
  --kube-context "$context" --namespace "$namespace" --create-namespace \
  --wait --timeout 5m

say "Applying examples/"
# The examples name images relative to the node's images root (/var/lib/hearth/images), where
# hello.elf and the Linux guest were copied above.
for example in "$root"/examples/*.yaml; do
  "$kubectl" --context "$context" apply -f "$example"
done

say "Hearth is up"
"$kubectl" --context "$context" get microvmnodes
"$kubectl" --context "$context" get microvms,microvmsets
echo "Watch them: $kubectl --context $context get microvms -w" >&2
