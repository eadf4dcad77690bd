package dev.hearth.agent.reconcile;

import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.Attachment;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import dev.hearth.api.v1alpha1.ExitStatus;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.api.v1alpha1.RunState;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * How a {@link VmSupervisor} reports one VM: its status through the {@link StatusPatcher}, its
 * phase metric with it, and the conditions it writes, stamped with the generation the supervisor
 * has applied.
 *
 * @param generation the generation the supervisor has applied (-1: none yet)
 */
record VmStatusWriter(
    StatusPatcher status,
    AgentMetrics metrics,
    InstantSource clock,
    String namespace,
    String name,
    LongSupplier generation) {

  /** Edits the VM's status (the agent's fields of it). */
  void patch(Consumer<MicroVMStatus> change) {
    status.patch(namespace, name, change);
  }

  /** Moves the VM to {@code phase}, in its status and its metric, with {@code more} changes. */
  void report(MicroVMPhase phase, Consumer<MicroVMStatus> more) {
    metrics.phase(namespace, name, phase.name());
    patch(
        s -> {
          s.setPhase(phase);
          more.accept(s);
        });
  }

  /** Sets the Ready condition alone. */
  void ready(boolean runs, String reason, String message) {
    patch(s -> s.putCondition(readyCondition(runs, reason, message)));
  }

  /** Reports the VM Failed for good at the applied generation: its exit, no network. */
  void failed(String reason, String message) {
    long gen = generation.getAsLong();
    report(
        MicroVMPhase.Failed,
        s -> {
          s.setObservedGeneration(gen);
          s.setNetwork(List.of());
          s.setExit(new ExitStatus(reason, message));
          s.putCondition(readyCondition(false, reason, message));
        });
  }

  /** Reports the VM Starting at generation {@code gen}: images, network and boot are under way. */
  void starting(long gen, String message) {
    report(
        MicroVMPhase.Starting,
        s -> {
          s.setObservedGeneration(gen);
          s.putCondition(readyCondition(false, HearthApi.Reasons.STARTING, message));
        });
  }

  /**
   * Reports a booted guest Running: a new run (its start, console, interfaces and restarts), Ready
   * unless a probe decides it, and a restart that is over.
   */
  void booted(
      Instant start,
      Optional<ConsoleEndpoint> console,
      List<Attachment> nics,
      int restartCount,
      boolean readyNow) {
    report(
        MicroVMPhase.Running,
        s -> {
          s.setRunState(RunState.Running);
          s.setStartTime(start.toString());
          s.setConsole(console.orElse(null));
          s.setNetwork(nics(nics));
          s.setBootTimeMillis(null);
          s.setRestartCount(restartCount);
          if (readyNow) {
            s.putCondition(readyCondition(true, HearthApi.Reasons.RUNNING, "the guest runs"));
          }
          if (s.condition(HearthApi.Conditions.RESTARTING).isPresent()) {
            s.putCondition(restarting(false, HearthApi.Reasons.STARTED, ""));
          }
        });
  }

  /** Reports a guest restored from its snapshot Running, Ready unless a probe decides it. */
  void restored(List<Attachment> nics, boolean readyNow) {
    report(
        MicroVMPhase.Running,
        s -> {
          s.setNetwork(nics(nics));
          if (readyNow) {
            s.putCondition(readyCondition(true, HearthApi.Reasons.RESTORED, "the guest runs"));
          }
        });
  }

  /**
   * Reports a guest that ended: {@code exit} and why it is not ready; its phase and Restarting
   * condition when it restarts after a back-off ({@code restarting} says when), or the phase it
   * ended in, without network, when it does not.
   */
  void exited(MicroVMPhase phase, ExitStatus exit, String what, Optional<String> restarting) {
    report(
        phase,
        s -> {
          s.setExit(exit);
          s.putCondition(readyCondition(false, exit.getReason(), what));
          restarting.ifPresentOrElse(
              r -> s.putCondition(restarting(true, HearthApi.Reasons.BACK_OFF, r)),
              () -> s.setNetwork(List.of()));
        });
  }

  /** Reports a set-up that failed with {@code reason} and is retried after a back-off. */
  void retrying(String reason, String message, String retrying) {
    patch(
        s -> {
          s.putCondition(readyCondition(false, reason, message));
          s.putCondition(restarting(true, HearthApi.Reasons.BACK_OFF, retrying));
        });
  }

  /**
   * Reports a VM the stopping agent left: suspended to a snapshot, or (with {@code exit}) stopped.
   */
  void leftByAgent(String message, Optional<ExitStatus> exit) {
    report(
        MicroVMPhase.Scheduled,
        s -> {
          exit.ifPresent(s::setExit);
          s.putCondition(readyCondition(false, HearthApi.Reasons.AGENT_SHUTDOWN, message));
        });
  }

  /** Reports a run-state change: status.runState and runStateTransition. */
  void runStateChanged(RunStateChange change) {
    patch(
        s -> {
          s.setRunState(change.to());
          s.setRunStateTransition(change.transition());
        });
  }

  /** Takes the agent's finalizer off the VM. */
  void removeFinalizer() {
    status.removeFinalizer(namespace, name);
  }

  /** The Ready condition: whether the guest runs, and why. */
  Condition readyCondition(boolean runs, String reason, String message) {
    return condition(HearthApi.Conditions.READY, runs, reason, message);
  }

  /** The Restarting condition: whether a restart is under way, and why. */
  Condition restarting(boolean under, String reason, String message) {
    return condition(HearthApi.Conditions.RESTARTING, under, reason, message);
  }

  private Condition condition(String type, boolean value, String reason, String message) {
    long gen = generation.getAsLong();
    return Conditions.of(
        type,
        value ? HearthApi.Conditions.TRUE : HearthApi.Conditions.FALSE,
        reason,
        message,
        gen < 0 ? null : gen,
        clock.instant());
  }

  /** The interfaces' status as wired. */
  static List<NetworkInterfaceStatus> nics(List<Attachment> attachments) {
    return attachments.stream()
        .map(a -> new NetworkInterfaceStatus(a.iface(), a.ip().getHostAddress(), a.mac(), a.tap()))
        .toList();
  }
}
