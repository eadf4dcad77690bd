package dev.hearth.agent.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.lifecycle.RestartBackoff.Decision;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;

class RestartBackoffTest {
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final InstantSource clock = () -> now;
  private final RestartBackoff.Config config =
      new RestartBackoff.Config(
          Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(10));

  private RestartBackoff backoff(RestartPolicy policy) {
    RestartBackoff b = new RestartBackoff(policy, config, clock, 0);
    b.started();
    return b;
  }

  private Duration crashAfter(RestartBackoff b, Duration ran) {
    now = now.plus(ran);
    Decision d = b.exited(false);
    assertThat(d).isInstanceOf(Decision.Restart.class);
    Decision.Restart r = (Decision.Restart) d;
    assertThat(r.at()).isEqualTo(now.plus(r.delay()));
    now = r.at();
    b.restarting();
    b.started();
    return r.delay();
  }

  @Test
  void alwaysRestartsWithDoublingDelayUpToTheCap() {
    RestartBackoff b = backoff(RestartPolicy.Always);
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(1));
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(2));
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(4));
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(8));
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(10));
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(10));
    assertThat(b.restartCount()).isEqualTo(6);
    now = now.plusSeconds(1);
    assertThat(b.exited(true)).isInstanceOf(Decision.Restart.class); // a clean exit too
  }

  @Test
  void aLongRunResetsTheBackoff() {
    RestartBackoff b = backoff(RestartPolicy.Always);
    crashAfter(b, Duration.ofSeconds(1));
    crashAfter(b, Duration.ofSeconds(1));
    assertThat(crashAfter(b, Duration.ofMinutes(10))).isEqualTo(Duration.ofSeconds(1));
    assertThat(crashAfter(b, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void onFailureRestartsOnlyFailures() {
    RestartBackoff b = backoff(RestartPolicy.OnFailure);
    assertThat(crashAfter(b, Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(1));
    assertThat(b.exited(true)).isEqualTo(new Decision.Stop(MicroVMPhase.Succeeded));
    assertThat(b.restartCount()).isEqualTo(1);
  }

  @Test
  void neverStopsInTheMatchingPhase() {
    assertThat(backoff(RestartPolicy.Never).exited(true))
        .isEqualTo(new Decision.Stop(MicroVMPhase.Succeeded));
    assertThat(backoff(RestartPolicy.Never).exited(false))
        .isEqualTo(new Decision.Stop(MicroVMPhase.Failed));
  }

  @Test
  void theRestartCountCarriesOverFromStatus() {
    RestartBackoff b = new RestartBackoff(RestartPolicy.Always, config, clock, 7);
    b.started();
    crashAfter(b, Duration.ofSeconds(1));
    assertThat(b.restartCount()).isEqualTo(8);
  }
}
