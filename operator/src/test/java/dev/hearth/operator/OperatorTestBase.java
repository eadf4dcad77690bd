package dev.hearth.operator;

import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Starts the operator against the fabric8 mock server (crud mode) with a hand-moved clock. */
abstract class OperatorTestBase {
  /** Generous: the build machines are shared and often heavily loaded. */
  protected static final Duration TIMEOUT = Duration.ofSeconds(90);

  protected KubernetesClient client;
  protected final MutableClock clock = new MutableClock(Instant.now());
  protected HearthOperator operator;
  protected SimpleMeterRegistry registry;

  @BeforeEach
  void installCrds() {
    Fixtures.installCrds(client);
  }

  @AfterEach
  void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
  }

  protected OperatorConfig config() {
    return OperatorConfig.defaults()
        .withLeaderElection(false)
        .withMetricsPort(0)
        .withScheduler(new SchedulerConfig(SchedulingStrategy.SPREAD, 0, 0))
        .withTimings(Duration.ofSeconds(60), Duration.ofMillis(500), Duration.ofMillis(200));
  }

  protected HearthOperator startOperator(OperatorConfig config) {
    registry = new SimpleMeterRegistry();
    operator = new HearthOperator(client, config, clock, registry);
    operator.start();
    return operator;
  }

  protected MicroVM get(String name) {
    return client.resources(MicroVM.class).inNamespace(Fixtures.NS).withName(name).get();
  }

  protected MicroVM awaitVm(String name, Predicate<MicroVM> condition) {
    await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              MicroVM vm = get(name);
              return vm != null && condition.test(vm);
            });
    return get(name);
  }
}
