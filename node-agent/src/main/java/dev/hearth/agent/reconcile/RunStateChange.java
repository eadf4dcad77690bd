package dev.hearth.agent.reconcile;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.RunStateTransition;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * One change of a VM's run state, as status.runStateTransition and its Event report it.
 *
 * @param at when the change completed
 * @param tookMillis how long the change took
 * @param pausedMillis on a change to Running, how long the guest's vCPUs were stopped; else null
 */
record RunStateChange(
    RunState from, RunState to, String reason, Instant at, long tookMillis, Long pausedMillis) {

  /**
   * The change that completes at {@code now}, begun {@code took} before; {@code stopped}, on a
   * change to Running, is when the guest's vCPUs stopped (null otherwise).
   */
  static RunStateChange of(
      RunState from, RunState to, String reason, Instant now, Duration took, Instant stopped) {
    Long paused = stopped == null ? null : Duration.between(stopped, now).toMillis();
    return new RunStateChange(from, to, reason, now, took.toMillis(), paused);
  }

  RunStateTransition transition() {
    return new RunStateTransition(from, to, reason, at.toString(), tookMillis, pausedMillis);
  }

  /** The Event's reason: what was done (Paused, Suspended, Resumed or Restored). */
  String eventReason() {
    return switch (to) {
      case Paused -> HearthApi.Reasons.PAUSED;
      case Suspended -> HearthApi.Reasons.SUSPENDED;
      case Running ->
          from == RunState.Paused ? HearthApi.Reasons.RESUMED : HearthApi.Reasons.RESTORED;
    };
  }

  /** The Event's message; a suspend names the node that holds the snapshot. */
  String eventMessage(String nodeName) {
    return eventReason().toLowerCase(Locale.ROOT)
        + " the VM in "
        + tookMillis
        + " ms"
        + (pausedMillis == null ? "" : "; the guest was paused for " + pausedMillis + " ms")
        + (to == RunState.Suspended ? " (snapshot on node " + nodeName + ")" : "");
  }
}
