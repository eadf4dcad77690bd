package dev.hearth.operator.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TolerationsTest {
  private final Taint taint = new Taint("NoExecute", "k", null, "v");

  @Test
  void equalNeedsKeyAndValue() {
    assertThat(Tolerations.tolerates(new Toleration(null, "k", "Equal", null, "v"), taint))
        .isTrue();
    assertThat(Tolerations.tolerates(new Toleration(null, "k", null, null, "v"), taint))
        .as("operator defaults to Equal")
        .isTrue();
    assertThat(Tolerations.tolerates(new Toleration(null, "k", "Equal", null, "w"), taint))
        .isFalse();
  }

  @Test
  void existsNeedsOnlyTheKeyAndAnEmptyKeyMatchesAll() {
    assertThat(Tolerations.tolerates(new Toleration(null, "k", "Exists", null, null), taint))
        .isTrue();
    assertThat(Tolerations.tolerates(new Toleration(null, "j", "Exists", null, null), taint))
        .isFalse();
    assertThat(Tolerations.tolerates(new Toleration(null, null, "Exists", null, null), taint))
        .isTrue();
    assertThat(Tolerations.tolerates(new Toleration(null, null, "Equal", null, null), taint))
        .isFalse();
  }

  @Test
  void effectMustMatchWhenGiven() {
    assertThat(
            Tolerations.tolerates(new Toleration("NoSchedule", "k", "Exists", null, null), taint))
        .isFalse();
    assertThat(Tolerations.tolerates(new Toleration("NoExecute", "k", "Exists", null, null), taint))
        .isTrue();
  }

  @Test
  void firstUntoleratedSkipsPreferNoSchedule() {
    Taint soft = new Taint("PreferNoSchedule", "s", null, null);
    assertThat(Tolerations.firstUntolerated(List.of(soft, taint), List.of())).contains(taint);
    assertThat(
            Tolerations.firstUntolerated(
                List.of(soft, taint), List.of(new Toleration(null, "k", "Exists", null, null))))
        .isEmpty();
  }
}
