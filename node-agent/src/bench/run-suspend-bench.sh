#!/bin/sh
# Runs AgentSuspendBench (not part of `verify`): suspend, resume (restore) and cold boot of the
# tiny ticker guest through the node agent and the embedded VMM, against the real API server, as
# medians and ratios in one run, with the process's resident memory before and after.
#   node-agent/src/bench/run-suspend-bench.sh [rounds, default 10]
# Needs a /dev/kvm that runs the tiny guests (natively).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
rounds=${1:-10}
cpfile="$root/node-agent/target/bench-classpath.txt"
./mvnw -q -o -pl node-agent -am -Dspotless.check.skip=true test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test
make -s -C vmm/guest/tiny OUT="$root/vmm/target/guests"
cp="$root/node-agent/target/test-classes:$root/node-agent/target/classes:$(cat "$cpfile")"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -Dhearth.bench.rounds="$rounds" \
  -Dhearth.guests="$root/vmm/target/guests" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$cp" org.junit.platform.console.ConsoleLauncher execute --disable-banner \
  --details=summary --include-classname='.*' --select-class=dev.hearth.agent.bench.AgentSuspendBench
