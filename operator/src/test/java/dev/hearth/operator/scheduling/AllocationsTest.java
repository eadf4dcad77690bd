package dev.hearth.operator.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AllocationsTest {
  private final Allocations a = new Allocations();
  private final Resources one = new Resources(1, 160);

  @Test
  void aVmIsCountedOnceWhetherReservedOrConfirmed() {
    a.reserve("u1", "n", one);
    a.confirm("u1", "n", one);
    a.confirm("u1", "n", one);
    assertThat(a.usedOn("n")).isEqualTo(one);
    a.release("u1");
    assertThat(a.usedOn("n")).isEqualTo(Resources.ZERO);
    assertThat(a.perNode()).isEmpty();
  }

  @Test
  void resyncKeepsUnconfirmedReservationsWhileTheirVmIsInTheCache() {
    a.reserve("inflight", "n", one);
    a.reserve("deleted", "n", one);
    a.confirm("gone", "n", one);
    a.resync(Map.of("seen", new Allocations.Bound("m", one)), Set.of("inflight", "seen"));
    assertThat(a.usedOn("n")).as("only the in-flight bind remains on n").isEqualTo(one);
    assertThat(a.usedOn("m")).isEqualTo(one);
    assertThat(a.size()).isEqualTo(2);
  }

  @Test
  void movingAVmMovesItsAllocation() {
    a.confirm("u", "n", one);
    a.reserve("u", "m", one);
    assertThat(a.usedOn("n")).isEqualTo(Resources.ZERO);
    assertThat(a.usedOn("m")).isEqualTo(one);
  }
}
