package dev.hearth.agent.cli;

import dev.hearth.agent.daemon.AgentDaemon;
import dev.hearth.agent.daemon.AgentSettings;
import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.ContainerBoot;
import dev.hearth.agent.vmmhost.VmmProcessRuntime;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.common.HearthBuild;
import dev.hearth.common.LogLevelOption;
import dev.hearth.vmm.config.SeccompMode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hearth agent}: the node agent (DaemonSet). Every option has one environment variable,
 * {@code HEARTH_} and the option's name in upper case ({@code --reserved-memory-mib} is {@code
 * HEARTH_RESERVED_MEMORY_MIB}): the variable sets the default, a flag overrides it. The chart sets
 * the variables; the e2e chart tests check that it sets no other.
 */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    versionProvider = HearthVersion.class,
    description = "Run the node agent: boot the MicroVMs bound to this node and report on them.",
    footer = {
      "",
      "Each option can also be set by the environment variable named beside it; a flag wins."
    })
final class AgentCommand implements Callable<Integer> {
  /** The agent's HTTPS port: console, metrics, health. */
  static final int DEFAULT_HTTP_PORT = 9940;

  @Option(
      names = "--seccomp",
      paramLabel = "MODE",
      defaultValue = "${env:HEARTH_SECCOMP:-ENFORCE}",
      description =
          "How the VMs' vCPU and device threads are filtered: ENFORCE (default: a system call off"
              + " their allow-list fails with EPERM and is logged by the kernel), LOG (allowed and"
              + " logged: for finding what a list misses) or OFF (for debugging only). Also"
              + " $HEARTH_SECCOMP.")
  SeccompMode seccomp = SeccompMode.ENFORCE;

  @Option(
      names = "--vms-per-vmm-process",
      paramLabel = "N",
      defaultValue = "${env:HEARTH_VMS_PER_VMM_PROCESS:-1000}",
      description =
          "VMs run in VMM processes the agent starts, at most N in each (env"
              + " HEARTH_VMS_PER_VMM_PROCESS; default ${DEFAULT-VALUE}): creating a KVM VM costs"
              + " its process time in proportion to the VMs already in it, so a process per"
              + " thousand keeps creation near linear. 0 runs every VM in the agent's own JVM.")
  int vmsPerVmmProcess;

  @Option(
      names = "--node-name",
      defaultValue = "${env:HEARTH_NODE_NAME}",
      description = "This node's name; required (env HEARTH_NODE_NAME).")
  String nodeName;

  @Option(
      names = "--data-dir",
      defaultValue = "${env:HEARTH_DATA_DIR:-/var/lib/hearth}",
      description =
          "IPAM state, image cache and VM disks (env HEARTH_DATA_DIR; default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(
      names = "--images-dir",
      defaultValue = "${env:HEARTH_IMAGES_DIR:-/var/lib/hearth/images}",
      description =
          "The images root: MicroVM image paths are relative to it, and nothing outside it can be"
              + " named (env HEARTH_IMAGES_DIR; default ${DEFAULT-VALUE}).")
  Path imagesDir;

  @Option(
      names = "--subnet",
      defaultValue = "${env:HEARTH_SUBNET:-10.213.0.0/24}",
      description = "Guest subnet on the bridge (env HEARTH_SUBNET; default ${DEFAULT-VALUE}).")
  String subnet;

  @Option(
      names = "--subnet-from-node",
      defaultValue = "${env:HEARTH_SUBNET_FROM_NODE:-false}",
      arity = "1",
      description =
          "Use the subnet the operator allocates to this node (MicroVMNode spec.subnet) instead"
              + " of --subnet, waiting for it at start (env HEARTH_SUBNET_FROM_NODE; default"
              + " ${DEFAULT-VALUE}).")
  boolean subnetFromNode;

  @Option(
      names = "--node-address",
      defaultValue = "${env:HEARTH_NODE_ADDRESS}",
      description =
          "The node's IPv4 address (InternalIP) through which the other nodes route this node's"
              + " guest subnet; reported on the MicroVMNode. Without it no routes are programmed"
              + " between nodes (env HEARTH_NODE_ADDRESS).")
  String nodeAddress;

  @Option(
      names = "--bridge",
      defaultValue = "${env:HEARTH_BRIDGE:-hearth0}",
      description = "Bridge name (env HEARTH_BRIDGE; default ${DEFAULT-VALUE}).")
  String bridge;

  @Option(
      names = "--guest-denied-networks",
      split = ",",
      defaultValue =
          "${env:HEARTH_GUEST_DENIED_NETWORKS:-10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10}",
      description =
          "IPv4 networks guests do not reach unless a MicroVM's spec.networkPolicy.egress opens"
              + " them: the cluster's pod, Service and node networks. The node's own addresses and"
              + " 169.254.0.0/16 are denied whatever this says (env HEARTH_GUEST_DENIED_NETWORKS,"
              + " comma-separated; default ${DEFAULT-VALUE}).")
  List<String> guestDeniedNetworks;

  @Option(
      names = "--http-address",
      defaultValue = "${env:HEARTH_HTTP_ADDRESS:-0.0.0.0}",
      description =
          "Address of the HTTPS console/metrics/health server (env HEARTH_HTTP_ADDRESS;"
              + " default ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(
      names = "--http-port",
      defaultValue = "${env:HEARTH_HTTP_PORT:-" + DEFAULT_HTTP_PORT + "}",
      description =
          "Its port: /metrics, /healthz, /readyz and consoles (env HEARTH_HTTP_PORT;"
              + " default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--advertise-address",
      defaultValue = "${env:HEARTH_ADVERTISE_ADDRESS:-}",
      description =
          "The node address clients reach the HTTPS server at, published in each running VM's"
              + " status.console (env HEARTH_ADVERTISE_ADDRESS; default: --http-address unless it"
              + " is a wildcard).")
  String advertiseAddress;

  @Option(
      names = "--lease-namespace",
      defaultValue = "${env:HEARTH_LEASE_NAMESPACE:-" + HearthApi.DEFAULT_LEASE_NAMESPACE + "}",
      description =
          "Namespace of the node Lease, where the operator reads it (env HEARTH_LEASE_NAMESPACE;"
              + " default ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(
      names = "--lease-duration-seconds",
      defaultValue =
          "${env:HEARTH_LEASE_DURATION_SECONDS:-" + HearthApi.DEFAULT_LEASE_DURATION_SECONDS + "}",
      description =
          "Node Lease duration (env HEARTH_LEASE_DURATION_SECONDS; default ${DEFAULT-VALUE}).")
  int leaseDurationSeconds;

  @Option(
      names = "--reserved-vcpus",
      defaultValue = "${env:HEARTH_RESERVED_VCPUS:-1}",
      description =
          "vCPUs kept back for the host (env HEARTH_RESERVED_VCPUS; default ${DEFAULT-VALUE}).")
  int reservedVcpus;

  @Option(
      names = "--reserved-memory-mib",
      defaultValue = "${env:HEARTH_RESERVED_MEMORY_MIB:-1024}",
      description =
          "Memory (MiB) kept back for the host (env HEARTH_RESERVED_MEMORY_MIB;"
              + " default ${DEFAULT-VALUE}).")
  long reservedMemoryMiB;

  @Option(
      names = "--vcpu-overcommit-ratio",
      defaultValue = "${env:HEARTH_VCPU_OVERCOMMIT_RATIO:-1}",
      description =
          "Guest vCPUs offered per host vCPU left after --reserved-vcpus (env"
              + " HEARTH_VCPU_OVERCOMMIT_RATIO; default ${DEFAULT-VALUE}: no overcommit).")
  int vcpuOvercommitRatio;

  @Option(
      names = "--vm-overhead-mib",
      defaultValue =
          "${env:HEARTH_VM_OVERHEAD_MIB:-" + NodeRegistration.DEFAULT_VM_OVERHEAD_MIB + "}",
      description =
          "Host memory (MiB) each VM costs beyond its guest memory, which the scheduler counts"
              + " for every VM on this node (env HEARTH_VM_OVERHEAD_MIB; default"
              + " ${DEFAULT-VALUE}).")
  long vmOverheadMiB;

  @Option(
      names = "--image-cache-mib",
      defaultValue = "${env:HEARTH_IMAGE_CACHE_MIB:-10240}",
      description =
          "Image cache size before eviction (env HEARTH_IMAGE_CACHE_MIB;"
              + " default ${DEFAULT-VALUE}).")
  long imageCacheMiB;

  @Option(
      names = "--vm-writable-disk-mib",
      defaultValue = "${env:HEARTH_VM_WRITABLE_DISK_MIB:-20480}",
      description =
          "The most a VM's writable disk copies may take of the node's disk together; a VM asking"
              + " for more is refused (env HEARTH_VM_WRITABLE_DISK_MIB; default ${DEFAULT-VALUE}).")
  long vmWritableDiskMiB;

  @Option(
      names = "--image-allow-private-networks",
      defaultValue = "${env:HEARTH_IMAGE_ALLOW_PRIVATE_NETWORKS:-false}",
      arity = "1",
      description =
          "Let image URLs reach private addresses (10/8, 172.16/12, 192.168/16, 100.64/10,"
              + " fc00::/7); loopback, link-local and metadata addresses stay refused"
              + " (env HEARTH_IMAGE_ALLOW_PRIVATE_NETWORKS; default ${DEFAULT-VALUE}).")
  boolean imageAllowPrivateNetworks;

  @Option(
      names = "--insecure-registry",
      split = ",",
      defaultValue = "${env:HEARTH_INSECURE_REGISTRY:-}",
      description =
          "An OCI registry (host[:port]) to reach over plain http instead of https; repeatable or"
              + " comma-separated (env HEARTH_INSECURE_REGISTRY; default none). For a registry"
              + " on the node's own network only: plain http carries credentials and images"
              + " unprotected.")
  List<String> insecureRegistries = new ArrayList<>();

  @Option(
      names = "--container-kernel",
      defaultValue = "${env:HEARTH_CONTAINER_KERNEL:-hearth/vmlinux}",
      description =
          "The kernel spec.container VMs boot, a path under the images root: Hearth's minimal"
              + " kernel (env HEARTH_CONTAINER_KERNEL; default ${DEFAULT-VALUE}).")
  String containerKernel;

  @Option(
      names = "--container-initramfs",
      defaultValue = "${env:HEARTH_CONTAINER_INITRAMFS:-hearth/initramfs.cpio.gz}",
      description =
          "The initramfs with Hearth's init that spec.container VMs boot, a path under the images"
              + " root; each VM's container config is appended to a copy (env"
              + " HEARTH_CONTAINER_INITRAMFS; default ${DEFAULT-VALUE}).")
  String containerInitramfs;

  @Option(
      names = "--console-buffer-kib",
      defaultValue = "${env:HEARTH_CONSOLE_BUFFER_KIB:-64}",
      description =
          "Console output kept per VM (env HEARTH_CONSOLE_BUFFER_KIB; default ${DEFAULT-VALUE}).")
  int consoleKiB;

  @Option(
      names = "--stop-grace-seconds",
      defaultValue = "${env:HEARTH_STOP_GRACE_SECONDS:-10}",
      description =
          "How long a stopping VM gets (env HEARTH_STOP_GRACE_SECONDS; default ${DEFAULT-VALUE}).")
  int stopGraceSeconds;

  @Mixin LogLevelOption logging;

  @Override
  public Integer call() throws Exception {
    logging.apply(); // before the first logger: slf4j-simple reads its level once
    AgentSettings settings = settings();
    LoggerFactory.getLogger(AgentCommand.class)
        .info(
            "hearth agent {} starting on node {}: subnet {}, bridge {}, HTTP {}, data {}, log level {}",
            settings.version(),
            settings.nodeName(),
            settings.subnet() == null ? "allocated by the operator" : settings.subnet(),
            settings.bridge(),
            settings.http(),
            settings.stateDir(),
            logging.level());
    KubernetesClient client = new KubernetesClientBuilder().build(); // kubeconfig or in-cluster
    VmRuntime runtime = runtime();
    AgentDaemon daemon =
        AgentDaemon.start(
            settings,
            client,
            runtime,
            HostCommands.host(),
            TunTapFactory.host(),
            HostProbe.system());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .unstarted(
                    () -> {
                      daemon.stop(
                          "the node agent received SIGTERM; it boots the VM again when it restarts");
                      runtime.close(); // after the VMs were suspended or stopped
                      client.close();
                      stopped.countDown();
                    }));
    stopped.await();
    return 0;
  }

  /** The VMM processes, or the embedded VMM with {@code --vms-per-vmm-process 0}. */
  VmRuntime runtime() {
    if (vmsPerVmmProcess < 0) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT,
          "--vms-per-vmm-process must be 0 (the agent's own JVM) or more, not " + vmsPerVmmProcess);
    }
    if (vmsPerVmmProcess == 0) {
      return new VmmRuntime().withSeccomp(seccomp);
    }
    VmmProcessRuntime processes =
        new VmmProcessRuntime(vmsPerVmmProcess, VmmRuntime.DEFAULT_VSOCK_DIR, seccomp);
    processes.prestart();
    return processes;
  }

  AgentSettings settings() {
    if (nodeName == null || nodeName.isBlank()) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, "no node name: set --node-name or HEARTH_NODE_NAME");
    }
    try {
      return AgentSettings.builder(nodeName, dataDir, imagesDir)
          .subnet(subnetFromNode ? null : Cidr.parse(subnet))
          .bridge(bridge)
          .guestDenied(
              guestDeniedNetworks.stream().filter(n -> !n.isBlank()).map(IpBlock::parse).toList())
          .http(new InetSocketAddress(httpAddress, httpPort))
          .advertiseAddress(advertiseAddress == null ? "" : advertiseAddress.strip())
          .leaseNamespace(leaseNamespace)
          .leaseDurationSeconds(leaseDurationSeconds)
          .reserved(
              new NodeRegistration.Reservations(
                  reservedVcpus, reservedMemoryMiB, vcpuOvercommitRatio, vmOverheadMiB))
          .imageCacheBytes(imageCacheMiB << 20)
          .imageDestinations(
              imageAllowPrivateNetworks ? Destinations.PUBLIC_AND_PRIVATE : Destinations.PUBLIC)
          .consoleBufferBytes(consoleKiB << 10)
          .stopGrace(Duration.ofSeconds(stopGraceSeconds))
          .version(HearthBuild.version())
          .vmWritableBytes(vmWritableDiskMiB << 20)
          .nodeAddress(
              nodeAddress == null || nodeAddress.isBlank()
                  ? null
                  : java.net.InetAddress.ofLiteral(nodeAddress.strip()))
          .plainHttpRegistries(
              insecureRegistries.stream()
                  .map(String::strip)
                  .filter(r -> !r.isEmpty())
                  .collect(java.util.stream.Collectors.toSet()))
          .containerBoot(new ContainerBoot(containerKernel, containerInitramfs))
          .build();
    } catch (IllegalArgumentException e) {
      throw new UserFacingException(UserFacingException.BAD_INPUT, e.getMessage());
    }
  }
}
