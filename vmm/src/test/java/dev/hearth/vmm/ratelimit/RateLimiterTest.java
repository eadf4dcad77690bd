package dev.hearth.vmm.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final FakeClock clock = new FakeClock();
  private RateLimiter limiter;
  private final FakeRefillTimer timer = new FakeRefillTimer(() -> limiter.onTimerExpired());

  private RateLimiter limiter(TokenBucketConfig bandwidth, TokenBucketConfig ops) {
    limiter = new RateLimiter(new RateLimiterConfig(bandwidth, ops), clock, timer);
    return limiter;
  }

  @Test
  void disabledBucketsLimitNothing() {
    RateLimiter l = limiter(new TokenBucketConfig(0, 0, 1000), new TokenBucketConfig(100, 0, 0));
    for (int i = 0; i < 1000; i++) {
      assertThat(l.consume(1 << 20, TokenType.BYTES)).isTrue();
      assertThat(l.consume(1, TokenType.OPS)).isTrue();
    }
    assertThat(timer.armed()).isFalse();
    assertThat(l.available(TokenType.BYTES)).isEqualTo(-1);
  }

  @Test
  void fullBucketAllowsItsSizeThenBlocksUntilRefilledAndArmsTimerForExactWait() {
    RateLimiter l = limiter(new TokenBucketConfig(1000, 0, 1000), TokenBucketConfig.DISABLED);
    assertThat(l.consume(600, TokenType.BYTES)).isTrue();
    assertThat(l.consume(400, TokenType.BYTES)).isTrue();
    assertThat(l.consume(100, TokenType.BYTES)).isFalse();
    assertThat(l.isBlocked()).isTrue();
    // 1000 tokens per second: 100 tokens take 100 ms.
    assertThat(timer.armedDelayNanos()).isEqualTo(100_000_000L);
    // Blocked means blocked, even for requests that would fit, and even for the other bucket.
    clock.advanceMillis(500);
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    assertThat(l.consume(1, TokenType.OPS)).isFalse();
    timer.fire();
    assertThat(l.isBlocked()).isFalse();
    assertThat(l.consume(500, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
  }

  @Test
  void waitAccountsForTimeAlreadyElapsed() {
    RateLimiter l = limiter(new TokenBucketConfig(1000, 0, 1000), TokenBucketConfig.DISABLED);
    assertThat(l.consume(1000, TokenType.BYTES)).isTrue();
    clock.advanceNanos(1_500_000); // 1.5 tokens' worth: 1 token refilled, half of the next
    assertThat(l.consume(11, TokenType.BYTES)).isFalse();
    // 10 missing tokens need 10 ms, of which 0.5 ms have passed.
    assertThat(timer.armedDelayNanos()).isEqualTo(9_500_000L);
  }

  @Test
  void refillIsProportionalCappedAtSizeAndKeepsFractions() {
    RateLimiter l = limiter(new TokenBucketConfig(1000, 0, 1000), TokenBucketConfig.DISABLED);
    assertThat(l.consume(1000, TokenType.BYTES)).isTrue();
    // One token per ms. Polls every 0.3 ms each refill less than a token; fractions must add up.
    int granted = 0;
    for (int i = 0; i < 10; i++) {
      clock.advanceNanos(300_000);
      if (l.consume(1, TokenType.BYTES)) {
        granted++;
      } else {
        timer.fire();
      }
    }
    assertThat(granted).isEqualTo(3);
    // A long idle time refills to size, never beyond.
    clock.advanceMillis(10_000);
    assertThat(l.available(TokenType.BYTES)).isLessThanOrEqualTo(1000);
    assertThat(l.consume(1000, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
  }

  @Test
  void sustainedRateMatchesConfigurationOnAFakeClock() {
    RateLimiter l = limiter(TokenBucketConfig.DISABLED, new TokenBucketConfig(100, 0, 1000));
    long granted = 0;
    // Poll every 3 ms for 60 s, firing the timer when its deadline passes.
    long deadline = -1;
    for (long t = 0; t < 60_000_000_000L; t += 3_000_000) {
      clock.advanceNanos(3_000_000);
      if (timer.armed()) {
        if (deadline < 0) {
          deadline = t + timer.armedDelayNanos();
        }
        if (t >= deadline) {
          timer.fire();
          deadline = -1;
        }
      }
      while (l.consume(1, TokenType.OPS)) {
        granted++;
      }
    }
    // The initial full bucket plus 100/s for 60 s.
    assertThat(granted).isBetween(100L + 6000 - 2, 100L + 6000);
  }

  @Test
  void oneTimeBurstIsSpentFirstAndNeverRefills() {
    RateLimiter l = limiter(new TokenBucketConfig(100, 1000, 1000), TokenBucketConfig.DISABLED);
    assertThat(l.available(TokenType.BYTES)).isEqualTo(1100);
    assertThat(l.consume(1000, TokenType.BYTES)).isTrue();
    assertThat(l.available(TokenType.BYTES)).isEqualTo(100);
    assertThat(l.consume(100, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    timer.fire();
    clock.advanceMillis(10_000);
    assertThat(l.consume(100, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
  }

  @Test
  void requestSplitAcrossBurstAndBudget() {
    RateLimiter l = limiter(new TokenBucketConfig(100, 50, 1000), TokenBucketConfig.DISABLED);
    assertThat(l.consume(120, TokenType.BYTES)).isTrue();
    assertThat(l.available(TokenType.BYTES)).isEqualTo(30);
  }

  @Test
  void oversizeRequestPassesOnceAndBlocksForItsOverdraw() {
    RateLimiter l = limiter(new TokenBucketConfig(1000, 0, 1000), TokenBucketConfig.DISABLED);
    assertThat(l.consume(3000, TokenType.BYTES)).isTrue();
    assertThat(l.isBlocked()).isTrue();
    // 2000 tokens beyond the full bucket at 1000/s: 2 s.
    assertThat(timer.armedDelayNanos()).isEqualTo(2_000_000_000L);
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    clock.advanceMillis(2000);
    timer.fire();
    assertThat(l.consume(1000, TokenType.BYTES)).isTrue();
  }

  @Test
  void replenishGivesBackUpToSize() {
    RateLimiter l = limiter(TokenBucketConfig.DISABLED, new TokenBucketConfig(10, 0, 1000));
    assertThat(l.consume(10, TokenType.OPS)).isTrue();
    l.replenish(3, TokenType.OPS);
    assertThat(l.available(TokenType.OPS)).isEqualTo(3);
    l.replenish(100, TokenType.OPS);
    assertThat(l.available(TokenType.OPS)).isEqualTo(10);
    l.replenish(5, TokenType.BYTES); // disabled: no effect, no failure
  }

  @Test
  void replenishDuringBurstRefillsTheBurstOnly() {
    RateLimiter l = limiter(TokenBucketConfig.DISABLED, new TokenBucketConfig(10, 5, 1000));
    assertThat(l.consume(3, TokenType.OPS)).isTrue();
    l.replenish(10, TokenType.OPS);
    assertThat(l.available(TokenType.OPS)).isEqualTo(15);
  }

  @Test
  void bucketsAreIndependent() {
    RateLimiter l = limiter(new TokenBucketConfig(1000, 0, 100), new TokenBucketConfig(2, 0, 100));
    assertThat(l.consume(1, TokenType.OPS)).isTrue();
    assertThat(l.consume(900, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.OPS)).isTrue();
    assertThat(l.consume(1, TokenType.OPS)).isFalse();
    // 2 ops per 100 ms: one op takes 50 ms.
    assertThat(timer.armedDelayNanos()).isEqualTo(50_000_000L);
  }

  @Test
  void liveUpdateReplacesKeepsOrDisablesBuckets() {
    RateLimiter l =
        limiter(new TokenBucketConfig(100, 0, 1000), new TokenBucketConfig(10, 0, 1000));
    assertThat(l.consume(100, TokenType.BYTES)).isTrue();
    assertThat(l.consume(4, TokenType.OPS)).isTrue();
    l.update(BucketUpdate.set(new TokenBucketConfig(500, 0, 1000)), BucketUpdate.KEEP);
    assertThat(l.available(TokenType.BYTES)).isEqualTo(500);
    assertThat(l.available(TokenType.OPS)).isEqualTo(6);
    assertThat(l.config().bandwidth().size()).isEqualTo(500);
    assertThat(l.consume(500, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    assertThat(l.isBlocked()).isTrue();
    // Disabling every bucket re-arms the timer to fire at once, so the device retries.
    l.update(
        BucketUpdate.set(TokenBucketConfig.DISABLED), BucketUpdate.set(TokenBucketConfig.DISABLED));
    assertThat(timer.armedDelayNanos()).isEqualTo(1);
    timer.fire();
    assertThat(l.isBlocked()).isFalse();
    assertThat(l.consume(Long.MAX_VALUE, TokenType.BYTES)).isTrue();
    assertThat(l.config().enabled()).isFalse();
  }

  @Test
  void updateThatLeavesABucketsLimitAsItIsKeepsItsBudget() {
    TokenBucketConfig bw = new TokenBucketConfig(1000, 200, 1000);
    TokenBucketConfig ops = new TokenBucketConfig(10, 0, 1000);
    RateLimiter l = limiter(bw, ops);
    assertThat(l.consume(1200, TokenType.BYTES)).isTrue();
    assertThat(l.consume(10, TokenType.OPS)).isTrue();
    // Re-applying the very same limits, or equal copies of them, refills nothing.
    l.update(BucketUpdate.set(bw), BucketUpdate.set(ops));
    l.update(
        BucketUpdate.set(new TokenBucketConfig(1000, 200, 1000)),
        BucketUpdate.set(new TokenBucketConfig(10, 0, 1000)));
    assertThat(l.available(TokenType.BYTES)).isZero();
    assertThat(l.available(TokenType.OPS)).isZero();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    assertThat(l.isBlocked()).isTrue();
    timer.fire();
    // Changing only the ops bucket leaves the drained bandwidth bucket (and its spent burst) alone.
    l.update(BucketUpdate.set(bw), BucketUpdate.set(new TokenBucketConfig(20, 0, 1000)));
    assertThat(l.available(TokenType.BYTES)).isZero();
    assertThat(l.available(TokenType.OPS)).isEqualTo(20);
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    timer.fire();
    // The changed bucket follows its new configuration: 20 ops, then blocked for 1/20 s.
    assertThat(l.consume(20, TokenType.OPS)).isTrue();
    assertThat(l.consume(1, TokenType.OPS)).isFalse();
    assertThat(timer.armedDelayNanos()).isEqualTo(50_000_000L);
    timer.fire();
    // The kept bucket still refills at its own rate: 1000 tokens per second.
    clock.advanceMillis(300);
    assertThat(l.consume(300, TokenType.BYTES)).isTrue();
    assertThat(l.consume(1, TokenType.BYTES)).isFalse();
    timer.fire();
    // A change of the burst alone is a change: the bucket is replaced and starts full.
    l.update(BucketUpdate.set(new TokenBucketConfig(1000, 0, 1000)), BucketUpdate.KEEP);
    assertThat(l.available(TokenType.BYTES)).isEqualTo(1000);
  }

  @Test
  void disabledBucketsStayDisabledWhateverZeroTheyAreSetTo() {
    RateLimiter l = limiter(TokenBucketConfig.DISABLED, new TokenBucketConfig(5, 0, 1000));
    assertThat(l.consume(5, TokenType.OPS)).isTrue();
    // Size 0 and refill time 0 both disable; "disabled" to "disabled" is no change for ops either.
    l.update(
        BucketUpdate.set(new TokenBucketConfig(0, 0, 1000)), BucketUpdate.set(l.config().ops()));
    assertThat(l.available(TokenType.BYTES)).isEqualTo(-1);
    assertThat(l.available(TokenType.OPS)).isZero();
    l.update(BucketUpdate.set(new TokenBucketConfig(100, 0, 0)), BucketUpdate.KEEP);
    assertThat(l.consume(1 << 30, TokenType.BYTES)).isTrue();
    // Disabling the ops bucket by a 0 size removes its limit.
    l.update(BucketUpdate.KEEP, BucketUpdate.set(new TokenBucketConfig(0, 0, 1000)));
    assertThat(l.available(TokenType.OPS)).isEqualTo(-1);
    assertThat(l.consume(1000, TokenType.OPS)).isTrue();
    assertThat(timer.armed()).isFalse();
  }

  @Test
  void theSameLimitIsRecognisedHoweverItIsWritten() {
    TokenBucketConfig a = new TokenBucketConfig(100, 0, 1000);
    assertThat(a.sameLimitAs(new TokenBucketConfig(100, 0, 1000))).isTrue();
    assertThat(TokenBucketConfig.DISABLED.sameLimitAs(new TokenBucketConfig(7, 0, 0))).isTrue();
    assertThat(a.sameLimitAs(new TokenBucketConfig(100, 1, 1000))).isFalse();
    assertThat(a.sameLimitAs(TokenBucketConfig.DISABLED)).isFalse();
  }

  @Test
  void aRequestTakesAnOpAndItsBytesOrNeither() {
    RateLimiter l = limiter(new TokenBucketConfig(100, 0, 1000), new TokenBucketConfig(3, 0, 1000));
    assertThat(l.consumeRequest(60)).isTrue();
    // The bytes are refused: the op taken for them comes back.
    assertThat(l.consumeRequest(60)).isFalse();
    assertThat(l.available(TokenType.OPS)).isEqualTo(2);
    assertThat(l.available(TokenType.BYTES)).isEqualTo(40);
    timer.fire();
    // A request without bytes takes only its op.
    assertThat(l.consumeRequest(0)).isTrue();
    assertThat(l.consumeRequest(40)).isTrue();
    assertThat(l.available(TokenType.OPS)).isZero();
    assertThat(l.consumeRequest(0)).isFalse();
    assertThat(l.available(TokenType.BYTES)).isZero();
  }

  @Test
  void countsWhatWentThroughAndWhichBucketHeldRequestsBack() {
    RateLimiter l = limiter(new TokenBucketConfig(100, 0, 1000), new TokenBucketConfig(3, 0, 1000));
    assertThat(l.consumeRequest(60)).isTrue();
    assertThat(l.consumeRequest(60)).isFalse(); // the bandwidth bucket is short
    assertThat(l.consumeRequest(10)).isFalse(); // still blocked by it
    timer.fire();
    assertThat(l.consumeRequest(0)).isTrue();
    assertThat(l.consumeRequest(40)).isTrue();
    assertThat(l.consumeRequest(0)).isFalse(); // now the ops bucket is empty
    assertThat(l.counters()).isEqualTo(new RateLimiter.Counters(3, 100, 1, 2));
  }

  @Test
  void hugeValuesDoNotOverflow() {
    RateLimiter l =
        limiter(
            new TokenBucketConfig(Long.MAX_VALUE / 2, 0, 1_000_000), TokenBucketConfig.DISABLED);
    assertThat(l.consume(Long.MAX_VALUE / 2, TokenType.BYTES)).isTrue();
    clock.advanceMillis(999_999);
    assertThat(l.consume(Long.MAX_VALUE / 4, TokenType.BYTES)).isTrue();
    assertThat(l.consume(Long.MAX_VALUE / 2, TokenType.BYTES)).isFalse();
    assertThat(timer.armedDelayNanos()).isPositive();
  }

  @Test
  void rejectsNegativeConfigurationAndNegativeTokens() {
    assertThatThrownBy(() -> new TokenBucketConfig(-1, 0, 1))
        .isInstanceOf(RateLimitException.class)
        .hasMessageContaining("size=-1");
    RateLimiter l = limiter(new TokenBucketConfig(1, 0, 1), TokenBucketConfig.DISABLED);
    assertThatThrownBy(() -> l.consume(-1, TokenType.BYTES)).isInstanceOf(RateLimitException.class);
  }
}
