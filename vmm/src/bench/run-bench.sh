#!/bin/sh
# Runs the VMM benchmark (not part of `verify`): builds vmm and its test guests, compiles the bench
# against them, and prints each figure beside a baseline measured in the same run.
#   vmm/src/bench/run-bench.sh [samples]
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
./mvnw -q -o -pl vmm -DskipTests -Dspotless.check.skip=true package
make -s -C vmm/src/test/guests OUT="$root/vmm/target/guests"
out="$root/vmm/target/bench-classes"
mkdir -p "$out"
"$JAVA_HOME/bin/javac" -d "$out" -cp vmm/target/classes \
  $(find vmm/src/bench/java -name '*.java')
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp "vmm/target/classes:$out" dev.hearth.vmm.bench.VmmBench vmm/target/guests "${1:-50}"
