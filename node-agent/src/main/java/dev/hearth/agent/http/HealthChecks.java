package dev.hearth.agent.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Named checks behind {@code /healthz} (liveness: is the process still able to work, or should the
 * kubelet restart it) and {@code /readyz} (readiness: registered, watching, network set up). Each
 * check returns a problem, or empty when fine.
 */
public final class HealthChecks {
  private final Map<String, Supplier<Optional<String>>> liveness = new ConcurrentHashMap<>();
  private final Map<String, Supplier<Optional<String>>> readiness = new ConcurrentHashMap<>();

  public void addLiveness(String name, Supplier<Optional<String>> check) {
    liveness.put(name, check);
  }

  public void addReadiness(String name, Supplier<Optional<String>> check) {
    readiness.put(name, check);
  }

  /** Problems of failing liveness checks, as {@code name: problem}. */
  public List<String> livenessProblems() {
    return problems(liveness);
  }

  /** Problems of failing liveness and readiness checks: not live is never ready. */
  public List<String> readinessProblems() {
    List<String> out = new ArrayList<>(problems(liveness));
    out.addAll(problems(readiness));
    return out;
  }

  private static List<String> problems(Map<String, Supplier<Optional<String>>> checks) {
    List<String> out = new ArrayList<>();
    new java.util.TreeMap<>(checks)
        .forEach(
            (name, check) -> {
              Optional<String> problem;
              try {
                problem = check.get();
              } catch (RuntimeException e) {
                problem = Optional.of("check failed: " + e);
              }
              problem.ifPresent(p -> out.add(name + ": " + p));
            });
    return out;
  }
}
