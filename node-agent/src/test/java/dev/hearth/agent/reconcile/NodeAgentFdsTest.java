package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File descriptors as a node resource: a VM that does not fit in the agent's budget, or that the
 * VMM could not make for want of descriptors, fails once with a clear condition and one Event, and
 * is never retried (a full node only fails again).
 */
class NodeAgentFdsTest {
  private static final int FIT = 3;
  private static final int PER_VM = FdBudget.perVm(1, 0, 0, false);

  @TempDir Path state;
  private final FakeVmRuntime runtime = new FakeVmRuntime();
  private final KubernetesClient client = SharedApiServer.client();
  private final String ns = SharedApiServer.createNamespace("fds");
  private final String node = "node-" + ns;
  private NodeAgent agent;

  private void startAgent(FdBudget fds) throws Exception {
    agent =
        new NodeAgent(
            TestAgentContext.of(node, SharedApiServer.agentClient(), state)
                .runtime(runtime)
                .guestCidr("10.87.0.0/24")
                // Quick back-off: a retry, were there one, would show within the test.
                .backoff(
                    new RestartBackoff.Config(
                        Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMinutes(10)))
                .fds(fds)
                .build());
    agent.start(Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    SharedApiServer.deleteNamespace(ns);
  }

  @Test
  void vmsBeyondTheBudgetFailOnceEachWithAConditionAndOneEvent() throws Exception {
    FdBudget fds = new FdBudget(FIT * PER_VM + PER_VM - 1);
    assertThat(fds.maxVms()).isEqualTo(FIT);
    startAgent(fds);
    int vms = FIT + 4;
    for (int i = 0; i < vms; i++) {
      create("vm-" + i);
    }
    await().atMost(20, TimeUnit.SECONDS).until(() -> finished(MicroVMPhase.Failed) == vms - FIT);
    await().atMost(20, TimeUnit.SECONDS).until(() -> finished(MicroVMPhase.Running) == FIT);
    Thread.sleep(1000); // a retry storm would show here: the back-off is 20-50 ms
    assertThat(runtime.started).hasSize(FIT);
    List<MicroVM> failed = phase(MicroVMPhase.Failed);
    assertThat(failed).hasSize(vms - FIT);
    for (MicroVM vm : failed) {
      var ready = vm.getStatus().condition(HearthApi.Conditions.READY).orElseThrow();
      assertThat(ready.getReason()).isEqualTo(HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS);
      assertThat(ready.getMessage())
          .contains("no file descriptors left", "room for " + FIT + " idle VMs");
      assertThat(vm.getStatus().getRestartCount()).isIn(null, 0);
      assertThat(events(vm.getMetadata().getName())).hasSize(1);
    }
    assertThat(fds.used()).isEqualTo(FIT * PER_VM);

    // Deleting a running VM gives its descriptors back: a new VM fits again.
    client.resources(MicroVM.class).inNamespace(ns).withName(runningName()).delete();
    await().atMost(20, TimeUnit.SECONDS).until(() -> fds.used() == (FIT - 1) * PER_VM);
    create("late");
    await()
        .atMost(20, TimeUnit.SECONDS)
        .until(() -> phaseOf("late") == MicroVMPhase.Running && fds.used() == FIT * PER_VM);
  }

  @Test
  void aVmmOutOfDescriptorsFailsTheVmOnceInsteadOfRetrying() throws Exception {
    startAgent(new FdBudget(1 << 20));
    runtime.failNextStart =
        new VmStartException(
            HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS,
            "eventfd failed: Too many open files (errno 24)",
            null);
    create("emfile");
    await().atMost(20, TimeUnit.SECONDS).until(() -> phaseOf("emfile") == MicroVMPhase.Failed);
    Thread.sleep(500);
    assertThat(runtime.started).isEmpty();
    assertThat(events("emfile")).hasSize(1);
  }

  private void create(String name) throws Exception {
    Path kernel = state.resolve("vmlinux");
    if (!Files.exists(kernel)) {
      Files.writeString(kernel, "kernel");
    }
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    vm.setSpec(spec);
    client.resource(vm).create();
  }

  private List<MicroVM> phase(MicroVMPhase p) {
    return client.resources(MicroVM.class).inNamespace(ns).list().getItems().stream()
        .filter(vm -> vm.getStatus() != null && vm.getStatus().getPhase() == p)
        .toList();
  }

  private long finished(MicroVMPhase p) {
    return phase(p).size();
  }

  private String runningName() {
    return phase(MicroVMPhase.Running).getFirst().getMetadata().getName();
  }

  private MicroVMPhase phaseOf(String name) {
    MicroVM vm = client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
    return vm == null || vm.getStatus() == null ? null : vm.getStatus().getPhase();
  }

  private List<Event> events(String vm) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> vm.equals(e.getInvolvedObject().getName()))
        .filter(e -> HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS.equals(e.getReason()))
        .toList();
  }
}
