package dev.hearth.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/** Helpers for metav1.Condition lists, shared by the operator and the agent. */
public final class Conditions {
  private Conditions() {}

  /** A condition with lastTransitionTime {@code now} (truncated to seconds, as the API does). */
  public static Condition of(
      String type,
      String status,
      String reason,
      String message,
      Long observedGeneration,
      Instant now) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message == null ? "" : message)
        .withObservedGeneration(observedGeneration)
        .withLastTransitionTime(now.truncatedTo(ChronoUnit.SECONDS).toString())
        .build();
  }

  /**
   * Puts {@code condition} into {@code list}, replacing the one of the same type. When the status
   * value is unchanged the old lastTransitionTime is kept.
   */
  public static void put(List<Condition> list, Condition condition) {
    for (int i = 0; i < list.size(); i++) {
      Condition old = list.get(i);
      if (Objects.equals(old.getType(), condition.getType())) {
        if (Objects.equals(old.getStatus(), condition.getStatus())
            && old.getLastTransitionTime() != null) {
          condition.setLastTransitionTime(old.getLastTransitionTime());
        }
        list.set(i, condition);
        return;
      }
    }
    list.add(condition);
  }
}
