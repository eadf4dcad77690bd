#!/bin/sh
# Runs OciPullBench (not part of `verify`): a cold pull of an image into an ext4 root disk and a
# warm (cached) start, Hearth against skopeo copy + tar + mke2fs -d and skopeo inspect, as ratios
# in one run against a local registry (Debian's docker-registry; skopeo; apt-get installs them).
#   node-agent/src/bench/run-oci-bench.sh [FILES, default 2000] [ROUNDS, default 3]
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
. "$root/.mvn/find-jdk.sh"
cd "$root"
cpfile="$root/node-agent/target/bench-classpath.txt"
./mvnw -q -o -pl node-agent -am -Dspotless.check.skip=true test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test
cp="$root/node-agent/target/test-classes:$root/node-agent/target/classes:$(cat "$cpfile")"
exec "$JAVA_HOME/bin/java" -Xmx2g -Dhearth.bench.files="${1:-2000}" -Dhearth.bench.rounds="${2:-3}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" org.junit.platform.console.ConsoleLauncher \
  execute --disable-banner --details=summary --include-classname='.*' \
  --select-class=dev.hearth.agent.bench.OciPullBench
