# The Hearth node agent image (`hearth agent`). Build from the repository root after
# `./mvnw -DskipTests package`:
#   docker build -f docker/agent.Dockerfile -t hearth/agent:0.1.0 .
# It copies only build outputs (node-agent/target/hearth.jar and node-agent/target/lib/).
# DockerfileInputsIT checks that the build produces every file COPY names.
ARG BASE_IMAGE=eclipse-temurin:25-jre-noble
FROM ${BASE_IMAGE}

# The programs the agent runs on the node (HostCommands.PROGRAMS and Ext4Builder.PROGRAMS;
# AgentImageToolsTest compares): ip (iproute2) for the bridge, taps and addresses, nft (nftables)
# for NAT and anti-spoofing, mke2fs and debugfs (e2fsprogs) for root disks made from OCI images.
# It writes /proc/sys itself (no procps) and copies disks with cp (coreutils, in every Debian base).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 nftables e2fsprogs \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/hearth
COPY node-agent/target/lib/ /opt/hearth/lib/
COPY node-agent/target/hearth.jar /opt/hearth/hearth.jar

# Runs as root: it opens /dev/kvm and /dev/net/tun and changes the node's network (the chart
# grants it NET_ADMIN, or privileged where no device plugin hands out /dev/kvm).
EXPOSE 9940
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "-jar", "/opt/hearth/hearth.jar"]
CMD ["agent"]
