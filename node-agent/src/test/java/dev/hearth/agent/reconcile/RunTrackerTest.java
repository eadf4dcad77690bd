package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.testing.FakeVmRuntime;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Run numbers, the guarded moves, and console input only while a run is attached. */
class RunTrackerTest {
  private final ConsoleRegistry consoles = new ConsoleRegistry(1024);
  private final RunTracker runs = new RunTracker(consoles, "ns", "vm");

  @Test
  void aStoppedRunIsNoLongerTheLatestSoItsCallbacksAreIgnored() {
    FakeVmRuntime.FakeVm first = new FakeVmRuntime.FakeVm(null);
    long one = runs.begin(first);
    assertThat(runs.isLatest(one)).isTrue();
    assertThat(runs.isRunning(one)).isTrue();
    assertThat(runs.live()).isSameAs(first);

    runs.end(SupervisorState.IDLE);
    assertThat(runs.isLatest(one)).isFalse();
    assertThat(runs.isRunning(one)).isFalse();
    assertThat(runs.live()).isNull();

    long two = runs.begin(new FakeVmRuntime.FakeVm(null));
    assertThat(two).isGreaterThan(one);
    assertThat(runs.isLatest(two)).isTrue();
  }

  @Test
  void aPausedRunIsLiveButNotRunning() {
    FakeVmRuntime.FakeVm vm = new FakeVmRuntime.FakeVm(null);
    long id = runs.begin(vm);
    runs.moveTo(new SupervisorState.Paused(vm, id, Instant.EPOCH));
    assertThat(runs.live()).isSameAs(vm);
    assertThat(runs.isRunning(id)).isFalse();
    assertThat(runs.isLatest(id)).isTrue();
  }

  @Test
  void aMoveTheStateDoesNotAllowIsRefusedWithTheVmNamed() {
    runs.begin(new FakeVmRuntime.FakeVm(null));
    assertThatThrownBy(() -> runs.moveTo(SupervisorState.GONE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("ns/vm: no move from Running");
    assertThat(runs.state()).isInstanceOf(SupervisorState.Running.class);
  }

  @Test
  void consoleInputReachesTheGuestOnlyWhileItsRunIsAttached() throws Exception {
    FakeVmRuntime.FakeVm vm = new FakeVmRuntime.FakeVm(null);
    long id = runs.begin(vm);
    byte[] ls = "ls\n".getBytes(StandardCharsets.UTF_8);
    assertThat(consoles.open("ns", "vm").writeInput(ls, Duration.ZERO)).isEqualTo(3);

    runs.moveTo(new SupervisorState.Paused(vm, id, Instant.EPOCH));
    assertThat(consoles.open("ns", "vm").writeInput(ls, Duration.ZERO)).isZero();
    assertThat(vm.consoleInput.toString(StandardCharsets.UTF_8)).isEqualTo("ls\n");
  }
}
