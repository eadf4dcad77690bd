package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PullProgressTest {
  @Test
  void throttledPassesAtMostOneUpdatePerIntervalAndNoneForAShortPull() {
    long[] now = {1_000};
    List<Long> passed = new ArrayList<>();
    PullProgress p =
        PullProgress.throttled(
            Duration.ofSeconds(5), () -> now[0], (image, done, total) -> passed.add(done));
    for (long done = 0; done < 100; done++) {
      p.update("img", done, 100);
      now[0] += 100_000_000; // 0.1 s a chunk: 10 s in all
    }
    // The first 5 s pass nothing (a short pull writes no status); then one update per 5 s.
    assertThat(passed).containsExactly(50L);
    now[0] += Duration.ofSeconds(5).toNanos();
    p.update("img", 100, 100);
    assertThat(passed).containsExactly(50L, 100L);
  }
}
