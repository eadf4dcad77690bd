package dev.hearth.operator.node;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.time.Instant;

/**
 * Health of one node, from its agent's Lease: Ready while {@code renewTime + leaseDurationSeconds}
 * lies ahead, NotReady after, Lost once the grace period has passed too.
 */
public final class NodeHealth {
  private NodeHealth() {}

  public enum State {
    READY,
    NOT_READY,
    LOST
  }

  /**
   * @param expiry when the Lease ran or runs out
   * @param nextChange when this state will change if nothing is renewed (null: never)
   */
  public record Verdict(State state, Instant expiry, Instant nextChange, String message) {}

  /**
   * @param lease the node's Lease, or null when there is none
   * @param registeredAt when the MicroVMNode was created: a node without a Lease counts as expired
   *     from then on
   */
  public static Verdict evaluate(Lease lease, Instant registeredAt, Instant now, Duration grace) {
    Instant expiry;
    String basis;
    if (lease == null || lease.getSpec() == null || lease.getSpec().getRenewTime() == null) {
      expiry = registeredAt;
      basis = "the agent holds no Lease";
    } else {
      int seconds =
          lease.getSpec().getLeaseDurationSeconds() == null
              ? 40
              : lease.getSpec().getLeaseDurationSeconds();
      Instant renewed = lease.getSpec().getRenewTime().toInstant();
      expiry = renewed.plusSeconds(seconds);
      basis = "Lease last renewed at " + renewed + " for " + seconds + "s";
    }
    Instant lostAt = expiry.plus(grace);
    if (now.isBefore(expiry)) {
      return new Verdict(State.READY, expiry, expiry, basis);
    }
    if (now.isBefore(lostAt)) {
      return new Verdict(
          State.NOT_READY, expiry, lostAt, basis + "; VMs move elsewhere after " + lostAt);
    }
    return new Verdict(State.LOST, expiry, null, basis + "; grace period over since " + lostAt);
  }
}
