package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file descriptors a VM holds before anything of it is made. */
class GuestLauncherTest {
  @TempDir Path state;
  private final AgentMetrics metrics = new AgentMetrics();

  private GuestLauncher launcher(FdBudget fds) {
    AgentContext ctx = TestAgentContext.of("node-a", null, state).fds(fds).build();
    // Holding descriptors neither reports nor moves the VM.
    SupervisedVm vm = new SupervisedVm(ctx, "ns", "vm", "uid-1", null, null, null);
    return new GuestLauncher(vm, metrics.vm("ns", "vm"));
  }

  private static VmPlan plan(int vcpus, int nics) throws Exception {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    spec.setVcpus(vcpus);
    List<NetworkInterfaceSpec> ifaces = new java.util.ArrayList<>();
    for (int i = 0; i < nics; i++) {
      ifaces.add(new NetworkInterfaceSpec("eth" + i));
    }
    spec.setNetwork(ifaces);
    return new SpecMapper(new FakeVmRuntime().capabilities()).map(spec);
  }

  @Test
  void aVmHoldsWhatItsPlanNeedsAndAChangedPlanReplacesIt() throws Exception {
    FdBudget fds = new FdBudget(1000);
    GuestLauncher launcher = launcher(fds);
    launcher.holdFileDescriptors(plan(1, 0));
    assertThat(fds.used()).isEqualTo(FdBudget.perVm(1, 0, 0, false));
    // A spec change that adds devices: what it held before is given back, not added to.
    launcher.holdFileDescriptors(plan(2, 1));
    assertThat(fds.used()).isEqualTo(FdBudget.perVm(2, 0, 1, false));
  }

  @Test
  void aNodeWithTooFewRefusesForGoodAndSaysWhatItNeeds() throws Exception {
    int need = FdBudget.perVm(2, 0, 1, false);
    FdBudget fds = new FdBudget(need - 1);
    assertThatThrownBy(() -> launcher(fds).holdFileDescriptors(plan(2, 1)))
        .isInstanceOfSatisfying(
            LaunchPreparer.PrepareException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS);
              assertThat(e.getMessage())
                  .startsWith(
                      "node node-a has no file descriptors left for this VM (it needs "
                          + need
                          + "; ");
            });
    assertThat(fds.used()).isZero();
  }
}
