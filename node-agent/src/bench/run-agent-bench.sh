#!/bin/sh
# Runs AgentScaleBench (not part of `verify`): N tiny MicroVMs bound to one node agent with the
# embedded VMM, reporting the time until all run (or what stopped them), Running per CPU-second in
# the first and last tenth, the VMM's start time by VMs already live, bind-to-Running percentiles,
# memory, threads, fds and mappings per VM, and the teardown of all.
#   node-agent/src/bench/run-agent-bench.sh [VMs, default 200; 1000 and 4000 are the issue's] [CLASS]
# CLASS RuntimeScaleBench starts the VMs through the runtime alone (no API server), with every VM
# in one JVM and in VMM processes of HEARTH_BENCH_PER_PROCESS (default 0,250,1000; 0: one JVM).
# CLASS ConsoleFloodBench times N short guests quiet and beside console flooders, with every VM
# in the agent's JVM and in one VMM process.
# AgentScaleBench runs its VMs in the agent's JVM, or in VMM processes of
# HEARTH_BENCH_AGENT_PER_PROCESS (as the chart's agent does: 1000).
# On a shared machine run it under nice and note the load average it prints.
# Without a /dev/kvm here (or with HEARTH_BENCH_NESTED=1) it runs inside the nested-KVM harness,
# where the figures are those of an emulated machine: memory holds, times are slow.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
vms=${1:-200}
bench=${2:-AgentScaleBench}
cpfile="$root/node-agent/target/bench-classpath.txt"
./mvnw -q -o -pl node-agent -am -Dspotless.check.skip=true test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test
make -s -C vmm/guest/tiny OUT="$root/vmm/target/guests"
cp="$root/node-agent/target/test-classes:$root/node-agent/target/classes:$(cat "$cpfile")"
set -- java --enable-native-access=ALL-UNNAMED -Xmx2g -Dhearth.bench.vms="$vms" \
  -Dhearth.bench.perProcess="${HEARTH_BENCH_PER_PROCESS:-0,250,1000}" \
  -Dhearth.bench.vmmJavaOptions="${HEARTH_BENCH_VMM_JAVA_OPTS-}" \
  -Dhearth.bench.agentPerProcess="${HEARTH_BENCH_AGENT_PER_PROCESS:-0}" \
  -Dhearth.bench.inspectSeconds="${HEARTH_BENCH_INSPECT_SECONDS:-0}" \
  -Dhearth.guests="$root/vmm/target/guests" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$cp" org.junit.platform.console.ConsoleLauncher execute --disable-banner \
  --details=summary --include-classname='.*' --select-class="dev.hearth.agent.bench.$bench"
if [ ! -e /dev/kvm ] || [ -n "${HEARTH_BENCH_NESTED-}" ]; then
  echo "run-agent-bench: inside the nested-KVM harness (L1's KVM runs the guests)" >&2
  adds=""
  for p in $(echo "$cp" | tr ':' ' ') "$root/vmm/target/guests"; do adds="$adds --add $p"; done
  # shellcheck disable=SC2086
  exec vmm/guest/nested/run-in-l1.sh --timeout 1800 --mem 4G --no-timestamps $adds -- "$@"
fi
exec "$JAVA_HOME/bin/$@"
