package dev.hearth.agent.lifecycle;

import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * Decides what happens when a guest exits, as a kubelet does for a container: {@code Always}
 * restarts after any exit, {@code OnFailure} after a failed one, {@code Never} stops. Restarts back
 * off exponentially (initial, doubling, capped); a run that lasted {@code resetAfter} resets the
 * back-off, so a VM that crashes once a day does not wait the maximum.
 */
public final class RestartBackoff {
  private final RestartPolicy policy;
  private final Config config;
  private final InstantSource clock;
  private int restartCount;
  private int consecutive;
  private Instant startedAt;

  /** Back-off settings; the defaults are the kubelet's shape with a shorter first step. */
  public record Config(Duration initial, Duration max, Duration resetAfter) {
    public static final Config DEFAULT =
        new Config(Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(10));

    public Config {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "back-off needs 0 < initial <= max, got " + initial + " and " + max);
      }
    }
  }

  /** What to do after an exit. */
  public sealed interface Decision {
    /** Restart at {@code at}, {@code delay} after the exit. */
    record Restart(Instant at, Duration delay) implements Decision {}

    /** Stay stopped, in {@code phase} (Succeeded or Failed). */
    record Stop(MicroVMPhase phase) implements Decision {}
  }

  /** {@code restartCount} carries over from the status after an agent restart. */
  public RestartBackoff(
      RestartPolicy policy, Config config, InstantSource clock, int restartCount) {
    this.policy = policy;
    this.config = config;
    this.clock = clock;
    this.restartCount = restartCount;
  }

  /** The guest has (re)started now. */
  public void started() {
    startedAt = clock.instant();
  }

  public Decision exited(boolean success) {
    Instant now = clock.instant();
    boolean restart =
        switch (policy) {
          case Always -> true;
          case OnFailure -> !success;
          case Never -> false;
        };
    if (!restart) {
      return new Decision.Stop(success ? MicroVMPhase.Succeeded : MicroVMPhase.Failed);
    }
    if (startedAt != null && Duration.between(startedAt, now).compareTo(config.resetAfter()) >= 0) {
      consecutive = 0;
    }
    Duration delay = delay(consecutive);
    consecutive++;
    return new Decision.Restart(now.plus(delay), delay);
  }

  /** A restart that a decision asked for is happening now. */
  public void restarting() {
    restartCount++;
  }

  public int restartCount() {
    return restartCount;
  }

  private Duration delay(int step) {
    Duration d = config.initial();
    for (int i = 0; i < step && d.compareTo(config.max()) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(config.max()) > 0 ? config.max() : d;
  }
}
