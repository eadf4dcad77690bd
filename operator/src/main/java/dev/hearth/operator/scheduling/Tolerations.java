package dev.hearth.operator.scheduling;

import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Taints against tolerations, with the semantics of core/v1 Pods. */
public final class Tolerations {
  private Tolerations() {}

  /** The first taint that blocks scheduling (NoSchedule or NoExecute) and is not tolerated. */
  public static Optional<Taint> firstUntolerated(List<Taint> taints, List<Toleration> tolerations) {
    for (Taint t : taints) {
      if ("PreferNoSchedule".equals(t.getEffect())) {
        continue;
      }
      if (tolerations.stream().noneMatch(tol -> tolerates(tol, t))) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** Whether one toleration matches one taint. */
  public static boolean tolerates(Toleration tol, Taint taint) {
    String effect = tol.getEffect();
    if (effect != null && !effect.isEmpty() && !effect.equals(taint.getEffect())) {
      return false;
    }
    String op =
        tol.getOperator() == null || tol.getOperator().isEmpty() ? "Equal" : tol.getOperator();
    String key = tol.getKey();
    if (key == null || key.isEmpty()) {
      // An empty key with Exists tolerates every taint.
      return "Exists".equals(op);
    }
    if (!key.equals(taint.getKey())) {
      return false;
    }
    return switch (op) {
      case "Exists" -> true;
      case "Equal" -> Objects.equals(emptyToNull(tol.getValue()), emptyToNull(taint.getValue()));
      default -> false;
    };
  }

  static String describe(Taint t) {
    String v = t.getValue() == null || t.getValue().isEmpty() ? "" : "=" + t.getValue();
    return "{" + t.getKey() + v + ":" + t.getEffect() + "}";
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
