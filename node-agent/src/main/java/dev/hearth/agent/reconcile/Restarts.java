package dev.hearth.agent.reconcile;

import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.api.v1alpha1.ExitStatus;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.RestartPolicy;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A VM's restart policy at work. After its guest ends, or its set-up fails, the VM either waits out
 * a back-off (BackingOff, reported Restarting) and is started again on its executor, or it is
 * Finished for good and what it held on the node is freed.
 */
final class Restarts {
  private final SupervisedVm vm;
  private final VmSupervisor.Loop loop;
  private final Consumer<Boolean> startAgain;
  private final Runnable release;
  private RestartBackoff backoff;

  /**
   * @param startAgain starts the VM again after a back-off; given whether that counts as a restart
   *     (it does when the guest ran)
   * @param release frees what the VM holds on the node
   */
  Restarts(
      SupervisedVm vm,
      VmSupervisor.Loop loop,
      Consumer<Boolean> startAgain,
      Runnable release,
      RestartPolicy policy,
      int restartCount) {
    this.vm = vm;
    this.loop = loop;
    this.startAgain = startAgain;
    this.release = release;
    this.backoff = new RestartBackoff(policy, vm.ctx().backoff(), vm.ctx().clock(), restartCount);
  }

  /** A new policy takes effect once no run or back-off of the old one is under way. */
  void renew(RestartPolicy policy) {
    if (vm.runs().state() instanceof SupervisorState.Idle
        || vm.runs().state() instanceof SupervisorState.Finished) {
      backoff =
          new RestartBackoff(policy, vm.ctx().backoff(), vm.ctx().clock(), backoff.restartCount());
    }
  }

  /** A guest booted. */
  void started() {
    backoff.started();
  }

  /** A back-off after a guest that ran is over: the next start counts as a restart. */
  void restarting() {
    backoff.restarting();
  }

  int restartCount() {
    return backoff.restartCount();
  }

  /** The guest of the latest run ended by itself. */
  void guestExited(GuestExit exit) {
    String what =
        "guest exited: "
            + exit.reason()
            + (exit.message().isEmpty() ? "" : " (" + exit.message() + ")");
    if (exit.success()) {
      vm.events().normal(HearthApi.Reasons.GUEST_EXITED, what);
    } else {
      vm.events().warning(HearthApi.Reasons.GUEST_FAILED, what);
    }
    ExitStatus exitStatus = new ExitStatus(exit.reason(), exit.message());
    exit.exitCode().ifPresent(exitStatus::setExitCode); // a container's, with its signal
    exit.signal().ifPresent(exitStatus::setSignal);
    switch (backoff.exited(exit.success())) {
      case RestartBackoff.Decision.Restart r -> {
        vm.runs().moveTo(SupervisorState.BACKING_OFF);
        String restarting = what + "; restarting in " + r.delay().toMillis() + " ms";
        vm.status().exited(MicroVMPhase.Starting, exitStatus, what, Optional.of(restarting));
        loop.schedule(r.delay(), () -> startAgain.accept(true));
      }
      case RestartBackoff.Decision.Stop stop -> {
        vm.runs().moveTo(SupervisorState.FINISHED);
        release.run();
        vm.status().exited(stop.phase(), exitStatus, what, Optional.empty());
      }
    }
  }

  /**
   * Preparing or booting failed: Never gives up at once, the others retry with back-off. A node out
   * of file descriptors is not retried.
   */
  void setUpFailed(String reason, String message) {
    vm.events().warning(reason, message);
    if (!HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS.equals(reason)
        && backoff.exited(false) instanceof RestartBackoff.Decision.Restart r) {
      vm.runs().moveTo(SupervisorState.BACKING_OFF);
      vm.status().retrying(reason, message, "retrying in " + r.delay().toMillis() + " ms");
      loop.schedule(r.delay(), () -> startAgain.accept(false));
      return;
    }
    vm.runs().moveTo(SupervisorState.FINISHED);
    release.run();
    vm.status().failed(reason, message);
  }
}
