package dev.hearth.operator.set;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The warm pool's plan: resume before booting, refill the pool, drop the cheapest first. */
class SetScalerTest {
  private static SetScaler.Member running(int i, boolean bound) {
    return new SetScaler.Member("s-" + i, i, bound, false);
  }

  private static SetScaler.Member pooled(int i) {
    return new SetScaler.Member("s-" + i, i, true, true);
  }

  @Test
  void scalingUpResumesPoolMembersFirstThenBootsAndRefillsThePool() {
    var live = List.of(running(0, true), pooled(1), pooled(2));
    SetScaler.Plan plan = SetScaler.plan(4, 2, live, Set.of(0, 1, 2));
    assertThat(plan.resume()).containsExactly("s-1", "s-2");
    assertThat(plan.create()).containsExactly(3); // the pool ran dry: one boots
    assertThat(plan.createSuspended()).containsExactly(4, 5);
    assertThat(plan.delete()).isEmpty();
  }

  @Test
  void aFullPoolAndEnoughReplicasPlanNothing() {
    var live = List.of(running(0, true), pooled(1));
    SetScaler.Plan plan = SetScaler.plan(1, 1, live, Set.of(0, 1));
    assertThat(plan.resume()).isEmpty();
    assertThat(plan.create()).isEmpty();
    assertThat(plan.createSuspended()).isEmpty();
    assertThat(plan.delete()).isEmpty();
  }

  @Test
  void scalingDownDropsRunningMembersAndAShrunkPoolDropsPoolMembers() {
    var live = List.of(running(0, true), running(1, true), running(2, false), pooled(3), pooled(4));
    SetScaler.Plan plan = SetScaler.plan(1, 1, live, Set.of(0, 1, 2, 3, 4));
    // Unbound first, then the highest index; the pool keeps its lowest member.
    assertThat(plan.delete()).containsExactly("s-2", "s-1", "s-4");
    assertThat(plan.resume()).isEmpty();
  }

  @Test
  void withoutAPoolThePlanIsTheOldOne() {
    SetScaler.Plan plan = SetScaler.plan(3, List.of(running(1, true)), Set.of(1));
    assertThat(plan.create()).containsExactly(0, 2);
    assertThat(plan.createSuspended()).isEmpty();
  }
}
