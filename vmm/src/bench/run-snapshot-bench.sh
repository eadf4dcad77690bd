#!/bin/sh
# Runs the snapshot/restore benchmark (not part of `verify`) on this host's KVM: builds vmm, its
# test classes (where the bench lives, so that every build compiles it) and its test guests, and
# prints, per guest memory size, suspend and restore latencies and the time to the first guest exit
# after a restore against a cold boot of the same tiny guest (as a ratio), and guest memory resident
# after restore against before suspend.
#   vmm/src/bench/run-snapshot-bench.sh [samples] [memory MiB...]
# Without a /dev/kvm here (or with HEARTH_BENCH_NESTED=1) it runs inside the nested-KVM harness.
#
# With --linux it benchmarks the Linux test guest instead, always in the nested-KVM harness (run it
# under `flock /tmp/hearth-l1.lock`): restore to the first guest exit and to the restored shell's
# answer against a cold boot to HEARTH-GUEST-READY, and resident memory after restore against
# before suspend, as ratios (LinuxSnapshotBench):
#   flock /tmp/hearth-l1.lock vmm/src/bench/run-snapshot-bench.sh --linux [samples] [memory MiB]
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
./mvnw -q -o -pl vmm -Dspotless.check.skip=true test-compile
make -s -C vmm/guest/tiny OUT="$root/vmm/target/guests"
out="$root/vmm/target/test-classes"
if [ "${1-}" = "--linux" ]; then
  shift
  echo "run-snapshot-bench: the Linux guest, inside the nested-KVM harness (L1's KVM)" >&2
  exec vmm/guest/nested/run-in-l1.sh --timeout 1500 --no-timestamps --with-guest \
    --add "$root/vmm/target/classes" --add "$out" -- java --enable-native-access=ALL-UNNAMED \
    -XX:+UseSerialGC -cp "$root/vmm/target/classes:$out" dev.hearth.vmm.bench.LinuxSnapshotBench \
    "${1:-3}" "${2:-128}"
fi
samples=${1:-20}
[ $# -gt 0 ] && shift
echo "host: $(nproc) CPUs, $(uptime | sed 's/.*\(load average\)/\1/')"
if [ ! -e /dev/kvm ] || [ -n "${HEARTH_BENCH_NESTED-}" ]; then
  echo "run-snapshot-bench: inside the nested-KVM harness (L1's KVM)" >&2
  exec vmm/guest/nested/run-in-l1.sh --timeout 900 --no-timestamps --add "$root/vmm/target/classes" \
    --add "$out" --add "$root/vmm/target/guests" -- java --enable-native-access=ALL-UNNAMED \
    -XX:+UseSerialGC -cp "$root/vmm/target/classes:$out" dev.hearth.vmm.bench.SnapshotBench \
    "$root/vmm/target/guests" "$samples" "$@"
fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp "vmm/target/classes:$out" dev.hearth.vmm.bench.SnapshotBench vmm/target/guests "$samples" "$@"
