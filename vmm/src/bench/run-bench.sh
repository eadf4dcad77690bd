#!/bin/sh
# Runs the VMM benchmark (not part of `verify`): builds vmm, its test classes (where the bench
# lives, so that every build compiles it) and its test guests, and prints each figure beside a
# baseline measured in the same run.
#   vmm/src/bench/run-bench.sh [samples] [idle VMs] [qemu-system-x86_64]
# With a QEMU (Debian qemu-system-x86), QEMU microvm on KVM booting the same guest is the baseline.
# Without a /dev/kvm here (or with HEARTH_BENCH_NESTED=1) it runs inside the nested-KVM harness,
# where Hearth and QEMU both use L1's KVM.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
./mvnw -q -o -pl vmm -Dspotless.check.skip=true test-compile
make -s -C vmm/guest/tiny OUT="$root/vmm/target/guests"
out="$root/vmm/target/test-classes"
if [ ! -e /dev/kvm ] || [ -n "${HEARTH_BENCH_NESTED-}" ]; then
  echo "run-bench: inside the nested-KVM harness (L1's KVM runs both VMMs)" >&2
  exec vmm/guest/nested/run-in-l1.sh --timeout 900 --no-timestamps --add "$root/vmm/target/classes" \
    --add "$out" --add "$root/vmm/target/guests" -- java --enable-native-access=ALL-UNNAMED \
    -XX:+UseSerialGC -cp "$root/vmm/target/classes:$out" dev.hearth.vmm.bench.VmmBench \
    "$root/vmm/target/guests" "${1:-50}" "${2:-100}" qemu-system-x86_64
fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp "vmm/target/classes:$out" dev.hearth.vmm.bench.VmmBench vmm/target/guests "${1:-50}" "${2:-100}" \
  ${3:-$(command -v qemu-system-x86_64 || true)}
