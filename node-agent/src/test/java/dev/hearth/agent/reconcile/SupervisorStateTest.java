package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.RunStateTransition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The moves a supervisor may make, and the ones it must not. */
class SupervisorStateTest {
  private static final SupervisorState IDLE = SupervisorState.IDLE;
  private static final SupervisorState RUNNING = new SupervisorState.Running(null, 1);
  private static final SupervisorState BACKING_OFF = SupervisorState.BACKING_OFF;
  private static final SupervisorState FINISHED = SupervisorState.FINISHED;
  private static final SupervisorState GONE = SupervisorState.GONE;
  private static final SupervisorState PAUSED = new SupervisorState.Paused(null, 1, Instant.EPOCH);
  private static final SupervisorState SUSPENDED =
      new SupervisorState.Suspended(Instant.EPOCH, Optional.empty());
  private static final List<SupervisorState> ALL =
      List.of(IDLE, RUNNING, BACKING_OFF, FINISHED, GONE, PAUSED, SUSPENDED);

  private static List<SupervisorState> from(SupervisorState s) {
    return ALL.stream().filter(s::allows).toList();
  }

  @Test
  void aGuestRunsOnlyAfterABootResumeOrRestore() {
    assertThat(ALL.stream().filter(s -> s.allows(RUNNING)).toList())
        .containsExactly(IDLE, PAUSED, SUSPENDED);
  }

  @Test
  void eachStateMovesOnlyWhereTheSupervisorDoes() {
    assertThat(from(IDLE))
        .containsExactly(IDLE, RUNNING, BACKING_OFF, FINISHED, GONE, PAUSED, SUSPENDED);
    // A running guest is stopped (Idle) before the VM can be Gone.
    assertThat(from(RUNNING)).containsExactly(IDLE, BACKING_OFF, FINISHED, PAUSED, SUSPENDED);
    assertThat(from(BACKING_OFF)).containsExactly(IDLE, FINISHED, GONE);
    assertThat(from(FINISHED)).containsExactly(IDLE, FINISHED, GONE);
    assertThat(from(GONE)).containsExactly(GONE);
    // A paused guest is resumed, suspended or stopped; a suspended one restored or dropped.
    assertThat(from(PAUSED)).containsExactly(IDLE, RUNNING, SUSPENDED);
    assertThat(from(SUSPENDED)).containsExactly(IDLE, RUNNING, GONE);
  }

  @Test
  void onlyIdleHasWorkLeftForTheAppliedGeneration() {
    assertThat(ALL.stream().filter(s -> !s.settled()).toList()).containsExactly(IDLE);
  }

  @Test
  void aVmTheLastAgentSuspendedOnItsWayOutComesBackBecauseThisOneStarted() {
    var byShutdown =
        new SupervisorState.Suspended(Instant.EPOCH, Optional.of(HearthApi.Reasons.AGENT_SHUTDOWN));
    var bySpec =
        new SupervisorState.Suspended(Instant.EPOCH, Optional.of(HearthApi.Reasons.SPEC_CHANGED));
    var unrecorded = new SupervisorState.Suspended(Instant.EPOCH, Optional.empty());
    RunStateTransition statusSaysShutdown = new RunStateTransition();
    statusSaysShutdown.setReason(HearthApi.Reasons.AGENT_SHUTDOWN);
    assertThat(byShutdown.resumeReason(null)).isEqualTo(HearthApi.Reasons.AGENT_STARTED);
    // The snapshot's own record wins over a status the last agent may not have written.
    assertThat(bySpec.resumeReason(statusSaysShutdown)).isEqualTo(HearthApi.Reasons.SPEC_CHANGED);
    assertThat(unrecorded.resumeReason(statusSaysShutdown))
        .isEqualTo(HearthApi.Reasons.AGENT_STARTED);
    assertThat(unrecorded.resumeReason(null)).isEqualTo(HearthApi.Reasons.SPEC_CHANGED);
  }
}
