package dev.hearth.agent.reconcile;

import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.probe.ReadinessCheck;
import dev.hearth.agent.probe.ReadinessProber;
import dev.hearth.api.v1alpha1.HearthApi;
import java.util.List;
import java.util.Objects;

/**
 * A VM's readiness probe: the spec's check, and the watch of the current run on its first
 * interface. Without a check Ready follows the guest, which the supervisor reports; with one the VM
 * is unready until the probe passes. Verdicts come back on the VM's executor and count only for the
 * run that is running.
 */
final class ReadinessWatch {
  private final SupervisedVm vm;
  private final ReadinessProber prober;
  private final VmSupervisor.Loop loop;
  private ReadinessCheck check; // null: the spec has no probe
  private ReadinessProber.Watch watch;
  private List<Attachment> nics = List.of();

  ReadinessWatch(SupervisedVm vm, ReadinessProber prober, VmSupervisor.Loop loop) {
    this.vm = vm;
    this.prober = prober;
    this.loop = loop;
  }

  /** Whether the spec has no probe, so that Ready follows the guest. */
  boolean none() {
    return check == null;
  }

  /** Takes the spec's check (null: none) for the next watch; returns whether it changed. */
  boolean use(ReadinessCheck next) {
    boolean changed = !Objects.equals(check, next);
    check = next;
    return changed;
  }

  /** Watches run {@code id}, whose guest has these interfaces, reporting it unready meanwhile. */
  void start(long id, List<Attachment> attachments) {
    nics = attachments;
    restart(id, false);
  }

  /**
   * (Re)starts the watch of run {@code id} on the interfaces it was started with. A probe removed
   * from a running VM ({@code probeChanged}) reports it ready here.
   */
  void restart(long id, boolean probeChanged) {
    stop();
    if (check == null) {
      if (probeChanged && vm.runs().state() instanceof SupervisorState.Running) {
        vm.status().ready(true, HearthApi.Reasons.RUNNING, "the guest runs");
      }
      return;
    }
    if (nics.isEmpty()) {
      return; // the CRD requires an interface with a probe; nothing to reach without one
    }
    vm.status()
        .ready(
            false,
            HearthApi.Reasons.PROBE_PENDING,
            "the guest runs; waiting for its readiness probe on TCP port " + check.port());
    watch =
        prober.watch(
            nics.getFirst().ip(),
            check,
            (ready, message) -> loop.submit(() -> probed(id, ready, message)));
  }

  private void probed(long id, boolean ready, String message) {
    if (!vm.runs().isRunning(id)) {
      return; // a probe of a run that has ended, or is paused
    }
    vm.status()
        .ready(
            ready,
            ready ? HearthApi.Reasons.PROBE_SUCCEEDED : HearthApi.Reasons.PROBE_FAILED,
            "readiness probe: " + message);
    if (!ready) {
      vm.events().warning(HearthApi.Reasons.UNHEALTHY, "readiness probe failed: " + message);
    }
  }

  void stop() {
    if (watch != null) {
      watch.close();
      watch = null;
    }
  }
}
