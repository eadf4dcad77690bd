package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.RunStateTransition;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What status.runStateTransition and the Event say of each run-state change. */
class RunStateChangeTest {
  private static final Instant NOW = Instant.parse("2026-12-05T07:00:00Z");

  @Test
  void aResumeSaysHowLongTheGuestWasPaused() {
    RunStateChange c =
        RunStateChange.of(
            RunState.Paused,
            RunState.Running,
            HearthApi.Reasons.SPEC_CHANGED,
            NOW,
            Duration.ofMillis(7),
            NOW.minusSeconds(2));
    assertThat(c.eventReason()).isEqualTo(HearthApi.Reasons.RESUMED);
    assertThat(c.eventMessage("n1"))
        .isEqualTo("resumed the VM in 7 ms; the guest was paused for 2000 ms");
    RunStateTransition t = c.transition();
    assertThat(t.getFrom()).isEqualTo(RunState.Paused);
    assertThat(t.getTo()).isEqualTo(RunState.Running);
    assertThat(t.getReason()).isEqualTo(HearthApi.Reasons.SPEC_CHANGED);
    assertThat(t.getTime()).isEqualTo("2026-12-05T07:00:00Z");
    assertThat(t.getDurationMillis()).isEqualTo(7L);
    assertThat(t.getPausedMillis()).isEqualTo(2000L);
  }

  @Test
  void aSuspendNamesTheNodeThatHoldsTheSnapshot() {
    RunStateChange c =
        RunStateChange.of(
            RunState.Running,
            RunState.Suspended,
            HearthApi.Reasons.AGENT_SHUTDOWN,
            NOW,
            Duration.ofMillis(30),
            null);
    assertThat(c.eventReason()).isEqualTo(HearthApi.Reasons.SUSPENDED);
    assertThat(c.eventMessage("n1")).isEqualTo("suspended the VM in 30 ms (snapshot on node n1)");
    assertThat(c.transition().getPausedMillis()).isNull();
  }

  @Test
  void aGuestBackFromItsSnapshotIsRestoredAndAPausedOnePaused() {
    assertThat(
            RunStateChange.of(RunState.Suspended, RunState.Running, "x", NOW, Duration.ZERO, NOW)
                .eventReason())
        .isEqualTo(HearthApi.Reasons.RESTORED);
    assertThat(
            RunStateChange.of(RunState.Running, RunState.Paused, "x", NOW, Duration.ZERO, null)
                .eventMessage("n1"))
        .isEqualTo("paused the VM in 0 ms");
  }
}
