package dev.hearth.agent.cli;

import dev.hearth.agent.daemon.AgentDaemon;
import dev.hearth.agent.daemon.AgentSettings;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hearth agent}: the node agent (DaemonSet). */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = "Run the node agent: boot the MicroVMs bound to this node and report on them.")
final class AgentCommand implements Callable<Integer> {
  /** The agent's HTTP port: console, metrics, health. */
  static final int DEFAULT_HTTP_PORT = 9940;

  @Option(
      names = "--node-name",
      defaultValue = "${env:NODE_NAME}",
      description = "This node's name (default: $NODE_NAME).")
  String nodeName;

  @Option(
      names = "--state-dir",
      defaultValue = "/var/lib/hearth",
      description = "IPAM, image cache and VM disks (default: ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--images-dir",
      defaultValue = "${env:HEARTH_IMAGES_DIR:-/var/lib/hearth/images}",
      description =
          "The images root: MicroVM image paths are relative to it, and nothing outside it can be"
              + " named (default: $HEARTH_IMAGES_DIR or /var/lib/hearth/images).")
  Path imagesDir;

  @Option(
      names = "--subnet",
      defaultValue = "10.200.0.0/16",
      description = "Guest subnet on the bridge (default: ${DEFAULT-VALUE}).")
  String subnet;

  @Option(
      names = "--bridge",
      defaultValue = "hearth0",
      description = "Bridge name (default: ${DEFAULT-VALUE}).")
  String bridge;

  @Option(
      names = "--http-address",
      defaultValue = "0.0.0.0",
      description = "Address of the console/metrics/health server (default: ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(
      names = "--http-port",
      defaultValue = "" + DEFAULT_HTTP_PORT,
      description = "Its port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--lease-namespace",
      defaultValue = "${env:POD_NAMESPACE:-" + HearthApi.DEFAULT_LEASE_NAMESPACE + "}",
      description = "Namespace of the node Lease (default: $POD_NAMESPACE or ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(
      names = "--lease-duration",
      defaultValue = "" + HearthApi.DEFAULT_LEASE_DURATION_SECONDS,
      description = "Lease duration in seconds (default: ${DEFAULT-VALUE}).")
  int leaseDuration;

  @Option(
      names = "--reserved-vcpus",
      defaultValue = "0",
      description = "vCPUs kept back for the host.")
  int reservedVcpus;

  @Option(
      names = "--reserved-memory-mib",
      defaultValue = "512",
      description = "Memory (MiB) kept back for the host (default: ${DEFAULT-VALUE}).")
  long reservedMemoryMiB;

  @Option(
      names = "--image-cache-mib",
      defaultValue = "10240",
      description = "Image cache size before eviction (default: ${DEFAULT-VALUE}).")
  long imageCacheMiB;

  @Option(
      names = "--console-buffer-kib",
      defaultValue = "64",
      description = "Console output kept per VM (default: ${DEFAULT-VALUE}).")
  int consoleKiB;

  @Option(
      names = "--stop-grace-seconds",
      defaultValue = "10",
      description = "How long a stopping VM gets (default: ${DEFAULT-VALUE}).")
  int stopGraceSeconds;

  @Override
  public Integer call() throws Exception {
    AgentSettings settings = settings();
    KubernetesClient client = new KubernetesClientBuilder().build(); // kubeconfig or in-cluster
    AgentDaemon daemon =
        AgentDaemon.start(
            settings,
            client,
            new VmmRuntime(),
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
                      client.close();
                      stopped.countDown();
                    }));
    stopped.await();
    return 0;
  }

  AgentSettings settings() {
    if (nodeName == null || nodeName.isBlank()) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, "no node name: set --node-name or NODE_NAME");
    }
    try {
      return new AgentSettings(
          nodeName,
          stateDir,
          imagesDir,
          Cidr.parse(subnet),
          bridge,
          new InetSocketAddress(httpAddress, httpPort),
          leaseNamespace,
          leaseDuration,
          new NodeRegistration.Reservations(reservedVcpus, reservedMemoryMiB),
          imageCacheMiB << 20,
          consoleKiB << 10,
          Duration.ofSeconds(stopGraceSeconds),
          version());
    } catch (IllegalArgumentException e) {
      throw new UserFacingException(UserFacingException.BAD_INPUT, e.getMessage());
    }
  }

  private static String version() {
    String v = AgentCommand.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
