package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.testing.FakeGuestNetwork;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMLimits;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One VM's supervisor, transition by transition: the test is its executor (nothing runs until the
 * test runs it), the runtime is a fake and status goes to the real API server with the agent token.
 */
class VmSupervisorTest {
  @TempDir Path state;
  private String ns;
  private KubernetesClient admin;
  private KubernetesClient agentClient;
  private final FakeVmRuntime runtime = new FakeVmRuntime();
  private final Queue<Runnable> submitted = new ArrayDeque<>();
  private final List<Duration> delays = new ArrayList<>();
  private final Queue<Runnable> scheduled = new ArrayDeque<>();
  private FakeGuestNetwork network;
  private AgentContext ctx;

  private final VmSupervisor.Loop loop =
      new VmSupervisor.Loop() {
        @Override
        public void submit(Runnable task) {
          synchronized (submitted) {
            submitted.add(task);
          }
        }

        @Override
        public void schedule(Duration delay, Runnable task) {
          delays.add(delay);
          scheduled.add(task);
        }
      };

  @BeforeEach
  void setUp() throws Exception {
    admin = SharedApiServer.client();
    ns = SharedApiServer.createNamespace("supervisor");
    agentClient = SharedApiServer.agentClient();
    Files.writeString(state.resolve("vmlinux"), "kernel");
    Files.writeString(state.resolve("rootfs.ext4"), "pristine");
    network = new FakeGuestNetwork(new Ipam(Cidr.parse("10.88.0.0/24"), state.resolve("ipam")));
    ctx =
        TestAgentContext.of("node-" + ns, agentClient, state)
            .runtime(runtime)
            .network(network)
            .consoles(new ConsoleRegistry(1024))
            .build();
  }

  @AfterEach
  void tearDown() {
    agentClient.close();
    SharedApiServer.deleteNamespace(ns);
  }

  private MicroVM create(RestartPolicy policy) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    spec.setRootfs(new RootfsSpec(ImageSource.ofPath("rootfs.ext4")));
    spec.setNetwork(List.of(new NetworkInterfaceSpec("eth0")));
    spec.setRestartPolicy(policy);
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName("vm")
            .withLabels(Map.of(HearthApi.NODE_LABEL, "node-" + ns))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    vm.setSpec(spec);
    return admin.resource(vm).create();
  }

  private MicroVM edit(Consumer<MicroVMSpec> change) {
    return admin
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName("vm")
        .edit(
            v -> {
              change.accept(v.getSpec());
              return v;
            });
  }

  private VmSupervisor supervisor(MicroVM vm) {
    return new VmSupervisor(
        ctx,
        new StatusPatcher(agentClient),
        new EventRecorder(agentClient, InstantSource.system(), StatusApply.AGENT, "n", m -> {}),
        loop,
        new dev.hearth.agent.probe.ReadinessProber(
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(),
            dev.hearth.agent.probe.ReadinessProber.TCP),
        vm);
  }

  private MicroVMStatus status() {
    return admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get().getStatus();
  }

  private Condition condition(String type) {
    return status().condition(type).orElseThrow();
  }

  /** Runs what the runtime's callbacks handed back to the VM's executor. */
  private void runSubmitted() {
    while (true) {
      Runnable r;
      synchronized (submitted) {
        r = submitted.poll();
      }
      if (r == null) {
        return;
      }
      r.run();
    }
  }

  @Test
  void startsReportsBootAndIgnoresAnUnchangedSpec() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    assertThat(sup.state()).isInstanceOf(SupervisorState.Idle.class);
    sup.sync(vm);

    assertThat(sup.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(runtime.started).hasSize(1);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Running);
    assertThat(status().getObservedGeneration()).isEqualTo(vm.getMetadata().getGeneration());
    assertThat(condition(HearthApi.Conditions.READY).getStatus()).isEqualTo("True");

    runtime.last().booted.complete(Duration.ofMillis(77));
    runSubmitted();
    assertThat(status().getBootTimeMillis()).isEqualTo(77L);

    sup.sync(vm);
    assertThat(runtime.started).hasSize(1);
  }

  /**
   * The agent's finalizer comes off a deleted VM even when the API server fails the first try (it
   * timed out under load in AgentScaleBench, and the VM stayed Terminating until the agent
   * restarted): the next sync tries again.
   */
  @Test
  void aFinalizerRemovalThatFailedIsRetriedOnTheNextSync() {
    AtomicBoolean failPatches = new AtomicBoolean();
    try (KubernetesClient flaky =
        new KubernetesClientBuilder()
            .withConfig(agentClient.getConfiguration())
            .withHttpClientBuilderConsumer(
                b ->
                    b.addOrReplaceInterceptor(
                        "flaky",
                        new Interceptor() {
                          @Override
                          public void before(
                              BasicBuilder builder,
                              HttpRequest request,
                              Interceptor.RequestTags tags) {
                            if (failPatches.get() && request.method().equals("PATCH")) {
                              throw new IllegalStateException("the API server timed out");
                            }
                          }
                        }))
            .build()) {
      MicroVM vm = create(RestartPolicy.Always);
      VmSupervisor sup =
          new VmSupervisor(
              ctx,
              new StatusPatcher(flaky),
              new EventRecorder(
                  agentClient, InstantSource.system(), StatusApply.AGENT, "n", m -> {}),
              loop,
              new dev.hearth.agent.probe.ReadinessProber(
                  java.util.concurrent.Executors.newSingleThreadScheduledExecutor(),
                  dev.hearth.agent.probe.ReadinessProber.TCP),
              vm);
      sup.sync(vm);
      admin.resource(vm).delete();
      MicroVM deleting = admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get();

      failPatches.set(true);
      assertThatThrownBy(() -> sup.sync(deleting)).isInstanceOf(RuntimeException.class);
      assertThat(sup.state()).isEqualTo(SupervisorState.GONE);
      assertThat(admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get())
          .as("still held by the agent's finalizer")
          .isNotNull();

      failPatches.set(false);
      sup.sync(deleting);
      assertThat(admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get()).isNull();
    }
  }

  @Test
  void limitsApplyLiveAndOtherChangesRestart() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    var first = runtime.last();

    MicroVM limited =
        edit(
            s ->
                s.getRootfs()
                    .setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(10, 10), null)));
    sup.sync(limited);
    assertThat(runtime.started).hasSize(1);
    assertThat(first.limitUpdates).hasSize(1);
    assertThat(first.limitUpdates.getFirst().disks()).containsKey(MicroVMLimits.ROOTFS_NAME);
    assertThat(status().getObservedGeneration()).isEqualTo(limited.getMetadata().getGeneration());

    MicroVM bigger = edit(s -> s.setVcpus(2));
    sup.sync(bigger);
    assertThat(first.stopReason).isEqualTo("spec changed");
    assertThat(runtime.started).hasSize(2);
    assertThat(runtime.last().launch.vcpus()).isEqualTo(2);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Running);
    assertThat(condition(HearthApi.Conditions.RESTARTING).getStatus()).isEqualTo("False");
    // The stopped run's exit is no guest exit, its boot time no boot: nothing changes.
    first.booted.complete(Duration.ofMillis(5));
    runSubmitted();
    assertThat(status().getBootTimeMillis()).isNull();
    assertThat(runtime.started).hasSize(2);
    assertThat(sup.isRunning()).isTrue();
  }

  @Test
  void anExitRestartsAfterTheBackOffAndCountsTheRestart() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);

    runtime.last().guestExits("Shutdown", true);
    runSubmitted();
    assertThat(sup.state()).isEqualTo(SupervisorState.BACKING_OFF);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Starting);
    assertThat(status().getExit().getReason()).isEqualTo("Shutdown");
    assertThat(condition(HearthApi.Conditions.RESTARTING).getReason()).isEqualTo("BackOff");
    assertThat(delays).containsExactly(Duration.ofMillis(50));
    // Waiting out the back-off, an unchanged spec starts nothing.
    sup.sync(vm);
    assertThat(runtime.started).hasSize(1);

    scheduled.poll().run();
    assertThat(sup.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(runtime.started).hasSize(2);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Running);
    assertThat(status().getRestartCount()).isEqualTo(1);
  }

  @Test
  void anExitUnderNeverIsFinalUntilTheSpecChanges() {
    MicroVM vm = create(RestartPolicy.Never);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);

    runtime.last().guestExits("InternalError", false);
    runSubmitted();
    assertThat(sup.state()).isEqualTo(SupervisorState.FINISHED);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Failed);
    assertThat(status().getNetwork()).isNullOrEmpty();
    assertThat(network.taps).isEmpty();
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("InternalError");
    assertThat(scheduled).isEmpty();

    sup.sync(vm);
    assertThat(runtime.started).hasSize(1);
    // A supervisor made after an agent restart sees the same: finished at this generation.
    MicroVM seen = admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get();
    VmSupervisor after = supervisor(seen);
    assertThat(after.state()).isEqualTo(SupervisorState.FINISHED);
    after.sync(seen);
    assertThat(runtime.started).hasSize(1);

    MicroVM changed = edit(s -> s.setMemoryMiB(256));
    after.sync(changed);
    assertThat(runtime.started).hasSize(2);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Running);
  }

  @Test
  void aContainersExitCodeAndSignalReachTheStatus() {
    MicroVM vm = create(RestartPolicy.Never);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);

    runtime.last().guestExits(dev.hearth.agent.runtime.GuestExit.containerSignalled(9));
    runSubmitted();
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Failed);
    assertThat(status().getExit().getReason()).isEqualTo(HearthApi.Reasons.ERROR);
    assertThat(status().getExit().getExitCode()).isEqualTo(137);
    assertThat(status().getExit().getSignal()).isEqualTo(9);

    MicroVM changed = edit(s -> s.setMemoryMiB(256));
    sup.sync(changed);
    runtime.last().guestExits(dev.hearth.agent.runtime.GuestExit.containerExited(0));
    runSubmitted();
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Succeeded);
    assertThat(status().getExit().getReason()).isEqualTo(HearthApi.Reasons.COMPLETED);
    assertThat(status().getExit().getExitCode()).isZero();
    assertThat(status().getExit().getSignal()).isNull();
  }

  @Test
  void aRejectedSpecFailsWithItsReason() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    var first = runtime.last();

    MicroVM bad = edit(s -> s.setVcpus(9)); // beyond the fake runtime's 8
    sup.sync(bad);
    assertThat(first.stopReason).isEqualTo("spec rejected");
    assertThat(sup.state()).isEqualTo(SupervisorState.FINISHED);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Failed);
    assertThat(status().getObservedGeneration()).isEqualTo(bad.getMetadata().getGeneration());
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("UnsupportedSpec");
    assertThat(status().getExit().getMessage()).contains("spec.vcpus 9");
    sup.sync(bad);
    assertThat(runtime.started).hasSize(1);
  }

  @Test
  void aFailedStartRetriesOrGivesUpByPolicy() {
    MicroVM vm = create(RestartPolicy.OnFailure);
    VmSupervisor sup = supervisor(vm);
    runtime.failNextStart = new VmStartException("KvmUnavailable", "no /dev/kvm", null);
    sup.sync(vm);
    assertThat(sup.state()).isEqualTo(SupervisorState.BACKING_OFF);
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("KvmUnavailable");
    assertThat(condition(HearthApi.Conditions.RESTARTING).getReason()).isEqualTo("BackOff");
    scheduled.poll().run();
    assertThat(sup.isRunning()).isTrue();
    // A failed set-up is no restart of a guest that ran.
    assertThat(status().getRestartCount()).isZero();

    // OnFailure: a clean exit is final.
    runtime.last().guestExits("Shutdown", true);
    runSubmitted();
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Succeeded);
    // A new policy takes effect with the next start; under Never a failed set-up is final.
    MicroVM never = edit(s -> s.setRestartPolicy(RestartPolicy.Never));
    runtime.failNextStart = new VmStartException("KvmUnavailable", "no /dev/kvm", null);
    sup.sync(never);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Failed);
    assertThat(status().getExit().getReason()).isEqualTo("KvmUnavailable");
    assertThat(sup.state()).isEqualTo(SupervisorState.FINISHED);
    assertThat(scheduled).isEmpty();
  }

  /**
   * The old agent suspended the VM on its way out but its client closed before the status said so:
   * the next agent still restores it because it started, as the snapshot's record says, and a VM
   * suspended through its spec still resumes because the spec changed.
   */
  @Test
  void theRestoreReasonComesFromTheSnapshotRecordNotAStatusTheOldAgentMayNotHaveWritten() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    MicroVM beforeSuspend = admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get();
    sup.shutdown("agent stopping");
    assertThat(beforeSuspend.getStatus().getRunStateTransition())
        .as("the status the next agent sees: no AgentShutdown in it")
        .matches(t -> t == null || !"AgentShutdown".equals(t.getReason()));

    VmSupervisor next = supervisor(beforeSuspend);
    next.sync(beforeSuspend);
    assertThat(next.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(status().getRunStateTransition().getReason()).isEqualTo("AgentStarted");

    // Suspended through the spec, then a new agent with a status claiming an agent shutdown.
    MicroVM suspended = edit(s -> s.setRunState(RunState.Suspended));
    next.sync(suspended);
    assertThat(next.state()).isInstanceOf(SupervisorState.Suspended.class);
    MicroVM resumed = edit(s -> s.setRunState(RunState.Running));
    resumed.getStatus().getRunStateTransition().setReason("AgentShutdown");
    VmSupervisor third = supervisor(resumed);
    third.sync(resumed);
    assertThat(third.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(status().getRunStateTransition().getReason()).isEqualTo("SpecChanged");
    third.delete(true);
  }

  @Test
  void shutdownSuspendsTheVmTheNextAgentRestoresItAndDeleteFreesIt() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    String tap = network.taps.iterator().next();
    String ip = status().getNetwork().getFirst().getIp();

    sup.shutdown("agent stopping");
    assertThat(sup.state()).isInstanceOf(SupervisorState.Suspended.class);
    assertThat(runtime.last().stopReason).isEqualTo("suspended");
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Scheduled);
    assertThat(status().getRunState()).isEqualTo(RunState.Suspended);
    assertThat(status().getRunStateTransition().getReason()).isEqualTo("AgentShutdown");
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("AgentShutdown");
    assertThat(network.taps).containsExactly(tap); // kept for the restore

    // The next agent finds the snapshot and restores the guest instead of booting it.
    MicroVM latest = admin.resources(MicroVM.class).inNamespace(ns).withName("vm").get();
    VmSupervisor next = supervisor(latest);
    assertThat(next.state()).isInstanceOf(SupervisorState.Suspended.class);
    next.sync(latest);
    assertThat(runtime.started).hasSize(2);
    assertThat(runtime.last().restoredFrom).isEqualTo(ns + "/vm");
    assertThat(next.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(status().getPhase()).isEqualTo(MicroVMPhase.Running);
    assertThat(status().getRunState()).isEqualTo(RunState.Running);
    assertThat(status().getRunStateTransition().getFrom()).isEqualTo(RunState.Suspended);
    assertThat(status().getRunStateTransition().getReason()).isEqualTo("AgentStarted");
    assertThat(status().getRunStateTransition().getPausedMillis()).isNotNull().isNotNegative();
    assertThat(status().getNetwork().getFirst().getIp()).isEqualTo(ip);
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("Restored");
    // A third agent boots nothing from the used snapshot: it is no longer recorded.
    assertThat(supervisor(vm).state()).isEqualTo(SupervisorState.IDLE);

    next.delete(true);
    assertThat(next.state()).isEqualTo(SupervisorState.GONE);
    assertThat(runtime.last().stopReason).isEqualTo("deleted");
    assertThat(network.taps).isEmpty();
    assertThat(ctx.vmDir(vm.getMetadata().getUid())).doesNotExist();
    assertThat(
            admin
                .resources(MicroVM.class)
                .inNamespace(ns)
                .withName("vm")
                .get()
                .getMetadata()
                .getFinalizers())
        .isEmpty();
    // Gone is gone: nothing starts it again.
    next.sync(vm);
    assertThat(runtime.started).hasSize(2);
  }

  @Test
  void pauseResumeSuspendAndRestoreFollowTheSpecAndReportTheirTimes() throws Exception {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    var first = runtime.last();
    assertThat(status().getRunState()).isEqualTo(RunState.Running);

    sup.sync(edit(s -> s.setRunState(RunState.Paused)));
    assertThat(first.paused).isTrue();
    assertThat(sup.state()).isInstanceOf(SupervisorState.Paused.class);
    assertThat(status().getRunState()).isEqualTo(RunState.Paused);
    assertThat(condition(HearthApi.Conditions.READY).getStatus()).isEqualTo("False");
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("Paused");
    // A run-state change is no rate-limit change.
    assertThat(first.limitUpdates).hasSize(1);

    Thread.sleep(20);
    sup.sync(edit(s -> s.setRunState(RunState.Running)));
    assertThat(first.paused).isFalse();
    assertThat(status().getRunState()).isEqualTo(RunState.Running);
    assertThat(status().getRunStateTransition().getFrom()).isEqualTo(RunState.Paused);
    assertThat(status().getRunStateTransition().getPausedMillis()).isGreaterThanOrEqualTo(20L);
    assertThat(condition(HearthApi.Conditions.READY).getReason()).isEqualTo("Resumed");

    String uid = vm.getMetadata().getUid();
    sup.sync(edit(s -> s.setRunState(RunState.Suspended)));
    assertThat(first.exit).isDone(); // the guest's memory is freed
    assertThat(sup.state()).isInstanceOf(SupervisorState.Suspended.class);
    assertThat(status().getRunState()).isEqualTo(RunState.Suspended);
    assertThat(status().getRunStateTransition().getDurationMillis()).isNotNull();
    assertThat(ctx.vmDir(uid).resolve("snapshot/fake-snapshot")).exists();
    // The exit of the suspended guest is no guest exit: no restart, no back-off.
    runSubmitted();
    assertThat(sup.state()).isInstanceOf(SupervisorState.Suspended.class);
    assertThat(scheduled).isEmpty();

    // A change that needs no restart waits in the snapshot; Running restores it.
    sup.sync(
        edit(
            s ->
                s.getRootfs()
                    .setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(10, 10), null))));
    assertThat(runtime.started).hasSize(1);
    sup.sync(edit(s -> s.setRunState(RunState.Running)));
    assertThat(runtime.started).hasSize(2);
    assertThat(runtime.last().restoredFrom).isEqualTo(ns + "/vm");
    assertThat(runtime.last().launch.limits().disks()).containsKey(MicroVMLimits.ROOTFS_NAME);
    assertThat(status().getRunStateTransition().getFrom()).isEqualTo(RunState.Suspended);
    assertThat(status().getRunStateTransition().getReason()).isEqualTo("SpecChanged");
    assertThat(status().getRestartCount()).isZero();
  }

  @Test
  void aSnapshotThatCannotBeRestoredBootsTheVmAfreshWithAWarning() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    sup.sync(edit(s -> s.setRunState(RunState.Suspended)));
    runtime.failNextStart = new VmStartException("RestoreFailed", "corrupted", null);

    sup.sync(edit(s -> s.setRunState(RunState.Running)));
    assertThat(sup.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(runtime.started).hasSize(2);
    assertThat(runtime.last().restoredFrom).isNull(); // booted
    assertThat(ctx.vmDir(vm.getMetadata().getUid()).resolve("snapshot")).doesNotExist();
    assertThat(
            admin.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> "RestoreFailed".equals(e.getReason())))
        .isNotEmpty();
  }

  @Test
  void aPausedGuestThatEndsIsHandledAsAnyExit() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    sup.sync(edit(s -> s.setRunState(RunState.Paused)));
    runtime.last().guestExits("InternalError", false);
    runSubmitted();
    assertThat(sup.state()).isEqualTo(SupervisorState.BACKING_OFF);
    assertThat(status().getExit().getReason()).isEqualTo("InternalError");
  }

  @Test
  void aSuspendThatFailsLeavesTheGuestRunning() {
    MicroVM vm = create(RestartPolicy.Always);
    VmSupervisor sup = supervisor(vm);
    sup.sync(vm);
    runtime.last().failNextSuspend = new VmStartException("SuspendFailed", "disk full", null);

    sup.sync(edit(s -> s.setRunState(RunState.Suspended)));
    assertThat(sup.state()).isInstanceOf(SupervisorState.Running.class);
    assertThat(runtime.last().exit).isNotDone();
    assertThat(status().getRunState()).isEqualTo(RunState.Running);
  }
}
