#!/bin/sh
# Runs the host-side device benchmarks (not part of `verify`): virtio-blk against a FileChannel loop
# on the same file, and virtio-net against a read/write loop on the same tap fd, each in the same
# run, alternating rounds; then prints one table of requests (frames) per second, MB/s and the
# ratio device/baseline per size. The net bench needs root and /dev/net/tun; it makes its tap in a
# network namespace of its own (unshare --net), which goes away with it.
#   vmm/src/bench/run-device-bench.sh [--hold]
# --hold also runs RateLimitHoldBench (a device held to its rate limit for 10 s, per device).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
stamp=vmm/target/test-classes/dev/hearth/vmm/bench/NetPathBench.class
if [ ! -e "$stamp" ] || [ -n "$(find vmm/src/main/java vmm/src/test/java -name '*.java' -newer "$stamp" | head -n 1)" ]; then
  ./mvnw -o -q -pl vmm -am test-compile
fi
java="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC"
cp=vmm/target/classes:vmm/target/test-classes
results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "host: $(nproc) CPUs, $(uptime | sed 's/.*\(load average\)/\1/')"
for bench in BlockPathBench NetPathBench; do
  # RESULT lines go to the table; everything else is shown as it comes.
  $java -cp "$cp" "dev.hearth.vmm.bench.$bench" | tee -a "$results" | grep -v '^RESULT ' || true
done
if [ "${1-}" = "--hold" ]; then
  $java -cp "$cp" dev.hearth.vmm.bench.RateLimitHoldBench
fi
echo "after: $(uptime | sed 's/.*\(load average\)/\1/')"
grep '^RESULT ' "$results" | awk '
  BEGIN {
    printf "%-10s %-5s %7s | %12s %10s | %12s %10s | %6s\n", "device", "path", "bytes",
      "device /s", "MB/s", "baseline /s", "MB/s", "ratio"
  }
  { printf "%-10s %-5s %7d | %12.0f %10.1f | %12.0f %10.1f | %6.2f\n", $2, $3, $4, $5, $6, $7, $8, $9 }
  END {
    print "per second: requests (blk) or frames (net); baseline: FileChannel on the same file (blk),"
    print "read/write on the same tap fd (net); ratio: device/baseline; net bytes: Ethernet frame"
  }'
[ "$(grep -c '^RESULT ' "$results")" -eq 10 ] || { echo "run-device-bench: a bench did not finish" >&2; exit 1; }
