#!/bin/sh
# Runs the snapshot/restore benchmark (not part of `verify`) on this host's KVM: builds vmm and its
# test guests, compiles SnapshotBench against them, and prints, per guest memory size, suspend and
# restore latencies and the time to the first guest exit after a restore against a cold boot of the
# same tiny guest (as a ratio), and guest memory resident after restore against before suspend.
#   vmm/src/bench/run-snapshot-bench.sh [samples] [memory MiB...]
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
./mvnw -q -o -pl vmm -DskipTests -Dspotless.check.skip=true package
make -s -C vmm/src/test/guests OUT="$root/vmm/target/guests"
out="$root/vmm/target/bench-classes"
mkdir -p "$out"
"$JAVA_HOME/bin/javac" -d "$out" -cp vmm/target/classes vmm/src/bench/java/dev/hearth/vmm/bench/SnapshotBench.java
samples=${1:-20}
[ $# -gt 0 ] && shift
echo "host: $(nproc) CPUs, $(uptime | sed 's/.*\(load average\)/\1/')"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp "vmm/target/classes:$out" dev.hearth.vmm.bench.SnapshotBench vmm/target/guests "$samples" "$@"
