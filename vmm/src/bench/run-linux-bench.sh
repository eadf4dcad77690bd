#!/bin/sh
# Hearth vs QEMU microvm booting the Linux test guest on the same KVM (not part of `verify`):
# builds vmm with its test classes (the bench's home) and the guest, then runs LinuxBootBench. Without a /dev/kvm here (or with
# HEARTH_BENCH_NESTED=1, for a KVM that cannot run Linux) it runs inside the nested-KVM harness,
# where both VMMs use L1's KVM.
#   vmm/src/bench/run-linux-bench.sh [rounds] [vcpus]
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
./mvnw -q -o -pl vmm -Dspotless.check.skip=true test-compile
out="$root/vmm/target/test-classes"
paths="$root/vmm/target/linux-bench-guest.env"
vmm/guest/build-guest.sh --properties "$paths" >/dev/null
cp="$root/vmm/target/classes:$out"
run="java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -cp $cp dev.hearth.vmm.bench.LinuxBootBench"
if [ ! -e /dev/kvm ] || [ -n "${HEARTH_BENCH_NESTED-}" ]; then
  echo "run-linux-bench: inside the nested-KVM harness (L1's KVM runs both VMMs)" >&2
  exec vmm/guest/nested/run-in-l1.sh --timeout 900 --with-guest --no-timestamps \
    --add "$root/vmm/target/classes" --add "$out" --add "$paths" -- \
    "$run $paths ${1:-5} ${2:-1} qemu-system-x86_64"
fi
exec $run "$paths" "${1:-5}" "${2:-1}" "$(command -v qemu-system-x86_64)"
