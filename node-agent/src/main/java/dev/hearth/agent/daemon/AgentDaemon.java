package dev.hearth.agent.daemon;

import dev.hearth.agent.auth.KubeAuthorizer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.http.AgentHttpServer;
import dev.hearth.agent.http.HealthChecks;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.image.OciSettings;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.net.NetworkNames;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.net.TapFactory;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.node.LeaseRenewer;
import dev.hearth.agent.node.NodeFence;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.node.PeerRoutes;
import dev.hearth.agent.probe.ReadinessProber;
import dev.hearth.agent.reconcile.AgentContext;
import dev.hearth.agent.reconcile.NodeAgent;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.state.PrivateFiles;
import dev.hearth.agent.tls.ServingCertificate;
import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole node agent wired together: HTTPS (console, metrics, health), the node network, the
 * image cache, registration, the Lease, and the reconcile loop. Startup order: HTTP first (so
 * liveness answers), network, registration, reconcile loop (which recovers), Lease last (the node
 * is Ready only once the agent can serve). {@link #close()} stops VMs cleanly, stops renewing and
 * removes the node network.
 */
public final class AgentDaemon implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AgentDaemon.class);

  /**
   * How often the fence's deadline is checked: the VMs stop at most this long after the lease
   * duration has passed without a renewal (plus the time they take to stop).
   */
  public static final Duration FENCE_CHECK = Duration.ofSeconds(1);

  /** How long a new agent waits for the operator to allocate its node's subnet. */
  static final Duration SUBNET_WAIT = Duration.ofMinutes(5);

  private final AgentSettings settings;
  private final AgentHttpServer http;
  private final NodeAgent agent;
  private final AgentContext context;
  private final ScheduledExecutorService heartbeat =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("hearth-lease").daemon().factory());
  // The fence's deadline on a thread of its own: a renewal to a silent API server blocks the
  // heartbeat thread for the client's whole request timeout.
  private final ScheduledExecutorService fenceWatch =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("hearth-fence-watch").daemon().factory());
  private volatile boolean closed;
  private final PeerRoutes peerRoutes;

  private AgentDaemon(
      AgentSettings settings,
      AgentHttpServer http,
      NodeAgent agent,
      AgentContext context,
      PeerRoutes peerRoutes) {
    this.peerRoutes = peerRoutes;
    this.settings = settings;
    this.http = http;
    this.agent = agent;
    this.context = context;
  }

  /**
   * Starts an agent. {@code commands} runs iproute2/nftables and {@code taps} makes taps (on the
   * host, or in a test's network namespace); {@code host} says what the node offers.
   */
  public static AgentDaemon start(
      AgentSettings settings,
      KubernetesClient client,
      VmRuntime runtime,
      CommandRunner commands,
      TapFactory taps,
      HostProbe host)
      throws Exception {
    return start(
        settings,
        client,
        runtime,
        ipam -> {
          NodeNetwork network =
              new NodeNetwork(
                  commands,
                  taps,
                  ipam,
                  NetworkNames.agent(settings.bridge()),
                  settings.guestDenied());
          network.setUp();
          return network;
        },
        host);
  }

  /**
   * Starts an agent whose guest network {@code network} makes from the node's IPAM: for a host
   * where the bridge and nftables cannot be set up (the e2e suite inside the nested-KVM machine,
   * whose VMs have no interfaces), a network that only allocates addresses.
   */
  public static AgentDaemon start(
      AgentSettings settings,
      KubernetesClient client,
      VmRuntime runtime,
      Function<Ipam, GuestNetwork> network,
      HostProbe host)
      throws Exception {
    return start(settings, client, runtime, network, host, ReadinessProber.TCP);
  }

  /**
   * As {@link #start(AgentSettings, KubernetesClient, VmRuntime, Function, HostProbe)}, with
   * readiness checks reaching the guests through {@code probes}: for an agent whose guests live in
   * a network namespace other than its own process's (the e2e nodes).
   */
  public static AgentDaemon start(
      AgentSettings settings,
      KubernetesClient client,
      VmRuntime runtime,
      Function<Ipam, GuestNetwork> network,
      HostProbe host,
      ReadinessProber.Connector probes)
      throws Exception {
    AgentMetrics metrics = new AgentMetrics();
    metrics.vmmProcesses(runtime);
    HealthChecks health = new HealthChecks();
    ConsoleRegistry consoles = new ConsoleRegistry(settings.consoleBufferBytes());
    ServingCertificate certificate =
        ServingCertificate.loadOrCreate(
            settings.stateDir().resolve("pki").resolve("serving.p12"),
            "hearth-agent " + settings.nodeName());
    AgentHttpServer http =
        new AgentHttpServer(
                settings.http(),
                certificate.serverContext(),
                new KubeAuthorizer(client),
                consoles,
                metrics,
                health)
            .start();
    settings
        .advertisedHost()
        .ifPresent(
            advertised ->
                consoles.publish(
                    new ConsoleEndpoint(
                        "https://"
                            + (advertised.contains(":") ? "[" + advertised + "]" : advertised)
                            + ":"
                            + http.port(),
                        certificate.sha256())));
    health.addLiveness("http", Optional::empty);
    try {
      // Tenants' disks and images live below it: the agent's alone (0700), also after an upgrade.
      PrivateFiles.directories(settings.stateDir());
      NodeRegistration registration = new NodeRegistration(client, settings.nodeName());
      Cidr subnet = settings.subnet();
      if (subnet == null) {
        // Registered first, so that the operator sees the node and allocates its subnet.
        registration.register(
            host.capacity(), settings.reserved(), host.kvm(), settings.version(), null);
        subnet = Cidr.parse(registration.awaitSubnet(SUBNET_WAIT));
      }
      Ipam ipam = new Ipam(subnet, settings.stateDir().resolve("ipam"));
      GuestNetwork guestNetwork = network.apply(ipam);
      ImageCache images =
          new ImageCache(
              // Outside the images root (by default /var/lib/hearth/images, where this cache
              // lived before): no spec may name a cached or partial download by path.
              settings.stateDir().resolve("image-cache"),
              new NodeImages(settings.imagesDir()),
              settings.imageCacheBytes(),
              ImageCache.Timeouts.DEFAULT,
              settings.imageDestinations(),
              OciSettings.DEFAULT.withPlainHttp(settings.plainHttpRegistries()),
              metrics.registry());
      // Raised to the hard limit first; what is left after the agent's own share is for VMs.
      FdBudget fds = FdBudget.ofThisProcess();
      LOG.info("file descriptors for VMs: {} (room for {} idle VMs)", fds, fds.maxVms());
      String nodeAddress =
          settings.nodeAddress() == null ? null : settings.nodeAddress().getHostAddress();
      registration.register(
          host.capacity(),
          settings.reserved(),
          fds.maxVms(),
          host.kvm(),
          settings.version(),
          subnet.toString(),
          nodeAddress);
      // Routes to the other nodes' guests, through their addresses, once this node has one.
      PeerRoutes peerRoutes =
          settings.nodeAddress() == null
              ? null
              : new PeerRoutes(client, settings.nodeName(), guestNetwork).start();
      AgentContext ctx =
          new AgentContext(
              settings.nodeName(),
              client,
              runtime,
              guestNetwork,
              images,
              consoles,
              metrics,
              settings.stateDir(),
              RestartBackoff.Config.DEFAULT,
              settings.stopGrace(),
              InstantSource.system(),
              settings.vmWritableBytes(),
              fds,
              settings.containerBoot());
      NodeAgent agent = new NodeAgent(ctx, probes);
      health.addReadiness("microvms", agent::readinessProblem);
      agent.start(Duration.ofMinutes(2));
      AgentDaemon daemon = new AgentDaemon(settings, http, agent, ctx, peerRoutes);
      LeaseRenewer lease =
          new LeaseRenewer(
              client,
              settings.leaseNamespace(),
              settings.nodeName(),
              settings.leaseDurationSeconds(),
              InstantSource.system(),
              () -> health.readinessProblems().stream().findFirst());
      // Fenced once the Lease has gone unrenewed for its duration, i.e. once it has expired: the
      // operator moves VMs only after its grace period on top, by which time they are stopped
      // here. Stopping closes HTTP too, so the liveness probe restarts the agent afresh.
      NodeFence fence =
          new NodeFence(
              lease::renew,
              Duration.ofSeconds(settings.leaseDurationSeconds()),
              InstantSource.system(),
              why -> Thread.ofPlatform().name("hearth-fence").start(() -> daemon.stop(why)));
      fence.run();
      daemon.heartbeat.scheduleAtFixedRate(
          fence, lease.interval().toMillis(), lease.interval().toMillis(), TimeUnit.MILLISECONDS);
      daemon.fenceWatch.scheduleAtFixedRate(
          fence::checkDeadline,
          FENCE_CHECK.toMillis(),
          FENCE_CHECK.toMillis(),
          TimeUnit.MILLISECONDS);
      LOG.info("hearth agent on {} serving on {}", settings.nodeName(), settings.http());
      return daemon;
    } catch (Exception | Error e) {
      http.close();
      throw e;
    }
  }

  public int httpPort() {
    return http.port();
  }

  public NodeAgent agent() {
    return agent;
  }

  /** What the agent works with (network, image cache, consoles); for checks from tests. */
  public AgentContext context() {
    return context;
  }

  /**
   * Stops every VM cleanly (status says why), stops renewing the Lease, removes the taps, bridge
   * and firewall tables it made on the node (the next start makes them again, so nothing of Hearth
   * is left on a node whose agent is gone), closes HTTP.
   */
  public void stop(String why) {
    if (closed) {
      return;
    }
    closed = true;
    heartbeat.shutdownNow(); // the Lease lapses: the operator sees the node go NotReady
    fenceWatch.shutdownNow();
    if (peerRoutes != null) {
      peerRoutes.close();
    }
    agent.shutdown(why, settings.stopGrace().plusSeconds(10));
    agent.close();
    try {
      context.network().tearDown();
    } catch (RuntimeException e) {
      LOG.warn("could not remove the node network on stop: {}", e.getMessage());
    }
    http.close();
  }

  @Override
  public void close() {
    stop("the node agent stopped");
  }
}
