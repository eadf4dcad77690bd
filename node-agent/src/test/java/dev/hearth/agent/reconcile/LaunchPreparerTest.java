package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.net.NetworkException;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.agent.testing.FakeGuestNetwork;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMLimits;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From a checked plan to a launch: images on local disk (a writable disk as the VM's own copy), the
 * network wired, and each failure as the reason the Ready condition shows.
 */
class LaunchPreparerTest {
  @TempDir Path state;
  private FakeGuestNetwork network;
  private final AgentMetrics metrics = new AgentMetrics();

  @BeforeEach
  void images() throws Exception {
    Files.writeString(state.resolve("vmlinux"), "kernel");
    Files.writeString(state.resolve("rootfs.ext4"), "pristine");
    network = new FakeGuestNetwork(new Ipam(Cidr.parse("10.88.0.0/24"), state.resolve("ipam")));
  }

  private AgentContext context(GuestNetwork net) {
    return TestAgentContext.of("node-a", null, state)
        .network(net)
        .consoles(new ConsoleRegistry(1024))
        .metrics(metrics)
        .backoff(
            new RestartBackoff.Config(Duration.ofMillis(50), Duration.ofMillis(200), Duration.ZERO))
        .build();
  }

  private static VmPlan plan(String kernel) throws Exception {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath(kernel)));
    RootfsSpec root = new RootfsSpec(ImageSource.ofPath("rootfs.ext4"));
    root.setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(1000, 100), null));
    spec.setRootfs(root);
    spec.setNetwork(List.of(new NetworkInterfaceSpec("eth0")));
    return new SpecMapper(new FakeVmRuntime().capabilities()).map(spec);
  }

  private LaunchPreparer.Prepared prepare(AgentContext ctx, VmPlan plan) throws Exception {
    return new LaunchPreparer(ctx)
        .prepare("ns", "web", "uid-1", plan, new ByteArrayOutputStream(), metrics.vm("ns", "web"));
  }

  @Test
  void aPlanBecomesALaunchWithItsOwnDiskAndNetwork() throws Exception {
    AgentContext ctx = context(network);
    VmPlan plan = plan("vmlinux");
    LaunchPreparer.Prepared p = prepare(ctx, plan);

    VmLaunch launch = p.launch();
    assertThat(launch.id()).isEqualTo("ns/web");
    assertThat(launch.kernel()).hasContent("kernel");
    Path copy = ctx.vmDir("uid-1").resolve("disks").resolve(MicroVMLimits.ROOTFS_NAME);
    assertThat(launch.disks()).extracting(VmLaunch.Disk::path).containsExactly(copy);
    assertThat(copy).hasContent("pristine");
    Files.writeString(copy, "guest wrote");
    assertThat(state.resolve("rootfs.ext4")).hasContent("pristine");

    Attachment eth0 = p.attachments().getFirst();
    assertThat(launch.nics()).containsExactly(new VmLaunch.Nic("eth0", eth0.tap(), eth0.mac()));
    assertThat(network.taps).containsExactly(eth0.tap());
    assertThat(launch.cmdline())
        .contains("root=/dev/vda rw")
        .contains("ip=" + eth0.ip().getHostAddress())
        .contains(":web:eth0");
    assertThat(launch.limits()).isEqualTo(plan.limits());
    assertThat(launch.limits().disks()).containsKey(MicroVMLimits.ROOTFS_NAME);

    // A restart of the same VM keeps its disk.
    prepare(ctx, plan);
    assertThat(copy).hasContent("guest wrote");
  }

  @Test
  void aMissingImageFailsBeforeTheNetworkIsWired() throws Exception {
    assertThatThrownBy(() -> prepare(context(network), plan("no-such-kernel")))
        .isInstanceOf(LaunchPreparer.PrepareException.class)
        .hasMessageContaining("no-such-kernel")
        .extracting(e -> ((LaunchPreparer.PrepareException) e).reason())
        .isEqualTo("ImageNotFound");
    assertThat(network.taps).isEmpty();
  }

  @Test
  void aNetworkFailureIsNetworkSetupFailed() throws Exception {
    GuestNetwork broken =
        new GuestNetwork() {
          @Override
          public List<Attachment> attach(
              String vmUid,
              dev.hearth.agent.net.GuestPolicy policy,
              List<NodeNetwork.InterfaceRequest> interfaces) {
            throw new NetworkException("ip link add: operation not permitted");
          }

          @Override
          public void detach(String vmUid) {}

          @Override
          public Set<String> reconcile(Set<String> liveOwners) {
            return Set.of();
          }
        };
    assertThatThrownBy(() -> prepare(context(broken), plan("vmlinux")))
        .isInstanceOf(LaunchPreparer.PrepareException.class)
        .hasMessage("ip link add: operation not permitted")
        .extracting(e -> ((LaunchPreparer.PrepareException) e).reason())
        .isEqualTo("NetworkSetupFailed");
  }
}
