package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.RestartPolicy;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the restart policy makes of a guest's exit and of a failed set-up: a back-off and a start
 * again, or the end; status goes to the real API server with the agent token.
 */
class RestartsTest {
  @TempDir Path state;
  private String ns;
  private KubernetesClient admin;
  private KubernetesClient agentClient;
  private RunTracker runs;
  private VmStatusWriter status;
  private final List<Duration> delays = new ArrayList<>();
  private final List<Runnable> scheduled = new ArrayList<>();
  private final List<Boolean> startedAgain = new ArrayList<>();
  private int released;

  private final VmSupervisor.Loop loop =
      new VmSupervisor.Loop() {
        @Override
        public void submit(Runnable task) {
          task.run();
        }

        @Override
        public void schedule(Duration delay, Runnable task) {
          delays.add(delay);
          scheduled.add(task);
        }
      };

  @BeforeEach
  void setUp() {
    admin = SharedApiServer.client();
    ns = SharedApiServer.createNamespace("restarts");
    agentClient = SharedApiServer.agentClient();
  }

  @AfterEach
  void tearDown() {
    agentClient.close();
    SharedApiServer.deleteNamespace(ns);
  }

  private Restarts restarts(RestartPolicy policy) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    spec.setRestartPolicy(policy);
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName("vm")
            .withLabels(Map.of(HearthApi.NODE_LABEL, "node-" + ns))
            .build());
    vm.setSpec(spec);
    MicroVM created = admin.resource(vm).create();
    AgentContext ctx = TestAgentContext.of("node-" + ns, agentClient, state).build();
    runs = new RunTracker(ctx.consoles(), ns, "vm");
    status =
        new VmStatusWriter(
            new StatusPatcher(agentClient), ctx.metrics(), ctx.clock(), ns, "vm", () -> 1);
    VmEvents events =
        new VmEvents(
            new EventRecorder(agentClient, InstantSource.system(), StatusApply.AGENT, "n", m -> {}),
            () -> created);
    SupervisedVm supervised = new SupervisedVm(ctx, ns, "vm", "uid", runs, status, events);
    return new Restarts(supervised, loop, startedAgain::add, () -> released++, policy, 0);
  }

  private MicroVMStatus status() {
    return admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get().getStatus();
  }

  private Condition condition(String type) {
    return status().condition(type).orElseThrow();
  }

  @Test
  void aGuestThatEndsUnderAlwaysBacksOffThenStartsAgainAsARestart() {
    Restarts restarts = restarts(RestartPolicy.Always);
    runs.begin(new FakeVmRuntime.FakeVm(null));
    restarts.started();

    restarts.guestExited(new GuestExit("Halted", "", true));

    assertThat(runs.state()).isInstanceOf(SupervisorState.BackingOff.class);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Starting);
    assertThat(status().getExit().getReason()).isEqualTo("Halted");
    assertThat(condition(HearthApi.Conditions.READY).getStatus()).isEqualTo("False");
    Condition restarting = condition(HearthApi.Conditions.RESTARTING);
    assertThat(restarting.getStatus()).isEqualTo("True");
    assertThat(restarting.getReason()).isEqualTo(HearthApi.Reasons.BACK_OFF);
    assertThat(restarting.getMessage())
        .isEqualTo("guest exited: Halted; restarting in " + delays.getFirst().toMillis() + " ms");
    assertThat(released).isZero();

    scheduled.getFirst().run();
    assertThat(startedAgain).containsExactly(true);
  }

  @Test
  void aGuestThatEndsUnderNeverIsFinishedAndFreed() {
    Restarts restarts = restarts(RestartPolicy.Never);
    runs.begin(new FakeVmRuntime.FakeVm(null));
    restarts.started();

    restarts.guestExited(new GuestExit("TripleFault", "at rip 0x1000", false));

    assertThat(runs.state()).isInstanceOf(SupervisorState.Finished.class);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Failed);
    assertThat(status().getNetwork()).isEmpty();
    assertThat(condition(HearthApi.Conditions.READY).getMessage())
        .isEqualTo("guest exited: TripleFault (at rip 0x1000)");
    assertThat(released).isEqualTo(1);
    assertThat(scheduled).isEmpty();
  }

  @Test
  void aFailedSetUpIsRetriedButANodeOutOfDescriptorsIsNot() {
    Restarts restarts = restarts(RestartPolicy.Always);
    restarts.setUpFailed(HearthApi.Reasons.NETWORK_SETUP_FAILED, "no bridge");
    assertThat(runs.state()).isInstanceOf(SupervisorState.BackingOff.class);
    assertThat(condition(HearthApi.Conditions.RESTARTING).getMessage()).startsWith("retrying in ");
    scheduled.getFirst().run();
    assertThat(startedAgain).containsExactly(false); // the guest never ran: no restart counted

    runs.moveTo(SupervisorState.IDLE);
    restarts.setUpFailed(HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS, "node full");
    assertThat(runs.state()).isInstanceOf(SupervisorState.Finished.class);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Failed);
    assertThat(status().getExit().getReason()).isEqualTo(HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS);
    assertThat(scheduled).hasSize(1);
    assertThat(released).isEqualTo(1);
  }
}
