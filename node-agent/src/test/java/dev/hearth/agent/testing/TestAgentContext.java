package dev.hearth.agent.testing;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.reconcile.AgentContext;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.spec.LaunchImages;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;

/**
 * The {@link AgentContext} of a test: node {@code node}'s agent with an API client and a state
 * folder, and defaults that suit tests, each replaceable: a {@link FakeVmRuntime}, a {@link
 * FakeGuestNetwork} on 10.88.0.0/24, node images under the state folder, a 1 MiB image cache, 4 KiB
 * of console per VM, a quick back-off ({@link #QUICK_BACKOFF}), a 1 s stop grace and room for
 * 2<sup>20</sup> file descriptors.
 */
public final class TestAgentContext {
  /** Restarts within the time of a test: 50 ms, doubling up to 200 ms. */
  public static final RestartBackoff.Config QUICK_BACKOFF =
      new RestartBackoff.Config(
          Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofMinutes(10));

  private final String node;
  private final KubernetesClient client;
  private final Path state;
  private VmRuntime runtime;
  private GuestNetwork network;
  private String guestCidr = "10.88.0.0/24";
  private Path imagesRoot;
  private ImageCache images;
  private ConsoleRegistry consoles;
  private AgentMetrics metrics;
  private RestartBackoff.Config backoff = QUICK_BACKOFF;
  private Duration stopGrace = Duration.ofSeconds(1);
  private long vmWritableBytes = LaunchImages.DEFAULT_WRITABLE_BYTES;
  private FdBudget fds;

  private TestAgentContext(String node, KubernetesClient client, Path state) {
    this.node = node;
    this.client = client;
    this.state = state;
    this.imagesRoot = state;
  }

  /** The context of node {@code node}'s agent, with its state (and images) under {@code state}. */
  public static TestAgentContext of(String node, KubernetesClient client, Path state) {
    return new TestAgentContext(node, client, state);
  }

  public TestAgentContext runtime(VmRuntime runtime) {
    this.runtime = runtime;
    return this;
  }

  public TestAgentContext network(GuestNetwork network) {
    this.network = network;
    return this;
  }

  /** The subnet of the default {@link FakeGuestNetwork} (its IPAM state under the state folder). */
  public TestAgentContext guestCidr(String cidr) {
    this.guestCidr = cidr;
    return this;
  }

  /** The node images root of the default image cache. */
  public TestAgentContext imagesRoot(Path root) {
    this.imagesRoot = root;
    return this;
  }

  public TestAgentContext images(ImageCache images) {
    this.images = images;
    return this;
  }

  public TestAgentContext consoles(ConsoleRegistry consoles) {
    this.consoles = consoles;
    return this;
  }

  public TestAgentContext metrics(AgentMetrics metrics) {
    this.metrics = metrics;
    return this;
  }

  public TestAgentContext backoff(RestartBackoff.Config backoff) {
    this.backoff = backoff;
    return this;
  }

  public TestAgentContext stopGrace(Duration stopGrace) {
    this.stopGrace = stopGrace;
    return this;
  }

  public TestAgentContext vmWritableBytes(long vmWritableBytes) {
    this.vmWritableBytes = vmWritableBytes;
    return this;
  }

  public TestAgentContext fds(FdBudget fds) {
    this.fds = fds;
    return this;
  }

  public AgentContext build() {
    return new AgentContext(
        node,
        client,
        runtime != null ? runtime : new FakeVmRuntime(),
        network != null
            ? network
            : new FakeGuestNetwork(new Ipam(Cidr.parse(guestCidr), state.resolve("ipam"))),
        images != null
            ? images
            : new ImageCache(
                state.resolve("images"),
                new NodeImages(imagesRoot),
                1 << 20,
                ImageCache.Timeouts.DEFAULT,
                new SimpleMeterRegistry()),
        consoles != null ? consoles : new ConsoleRegistry(4096),
        metrics != null ? metrics : new AgentMetrics(),
        state,
        backoff,
        stopGrace,
        InstantSource.system(),
        vmWritableBytes,
        fds != null ? fds : new FdBudget(1 << 20));
  }
}
