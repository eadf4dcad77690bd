package dev.hearth.agent.node;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeat tick, and fencing. Each {@link #run()} tries to renew the node Lease; whatever it
 * throws is logged and counted, never propagated: a {@code ScheduledExecutorService} cancels a
 * periodic task after its first exception, and a node whose Lease silently stops renewing has its
 * VMs moved elsewhere while they still run here.
 *
 * <p>Fencing: once no renewal has succeeded for {@code fenceAfter}, {@code onFence} is called,
 * once, with the reason; it stops the node's VMs. The operator moves VMs off a node only after its
 * Lease has expired and its grace period has passed too, so with {@code fenceAfter} at most the
 * lease duration the VMs here are stopped before they can run on another node: the same VM never
 * runs twice. Nothing can be reported to the API server at that point; the reason is logged.
 *
 * <p>Two things keep that true when the API server is unreachable rather than refusing: a renewal
 * counts from when it was <em>sent</em> (the Lease's renewTime is no earlier), not from when its
 * answer came, which may be many seconds later; and {@link #checkDeadline()} runs on a schedule of
 * its own, since a renewal to a silent server blocks its thread for the client's whole timeout.
 */
public final class NodeFence implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeFence.class);

  private final BooleanSupplier renew;
  private final Duration fenceAfter;
  private final InstantSource clock;
  private final Consumer<String> onFence;
  private final AtomicLong failures = new AtomicLong();
  private volatile Instant lastRenewed;
  private volatile boolean fenced;

  /**
   * @param renew one renewal attempt: true when the Lease was renewed
   * @param fenceAfter how long without a renewal before the VMs are stopped (counted from now until
   *     the first renewal)
   * @param onFence stops the node's VMs; called at most once, with why
   */
  public NodeFence(
      BooleanSupplier renew, Duration fenceAfter, InstantSource clock, Consumer<String> onFence) {
    if (fenceAfter.isNegative() || fenceAfter.isZero()) {
      throw new IllegalArgumentException("fence time " + fenceAfter + " is not positive");
    }
    this.renew = renew;
    this.fenceAfter = fenceAfter;
    this.clock = clock;
    this.onFence = onFence;
    this.lastRenewed = clock.instant();
  }

  /** One tick: renew, or count the failure and fence once renewals have failed too long. */
  @Override
  public void run() {
    Instant sent = clock.instant(); // the renewTime the Lease gets is no earlier
    try {
      if (renew.getAsBoolean()) {
        lastRenewed = sent;
        return;
      }
      failures.incrementAndGet();
    } catch (Throwable t) { // even an Error: the next tick must still run
      failures.incrementAndGet();
      LOG.error("renewing the node Lease threw; retrying next tick", t);
    }
    checkDeadline();
  }

  /**
   * Fences the node if no renewal has succeeded for longer than the fence time. Call it on a
   * schedule of its own, often (every second): {@link #run()} may be stuck in a renewal.
   */
  public void checkDeadline() {
    try {
      fenceIfOverdue();
    } catch (Throwable t) {
      LOG.error("fencing the node failed", t);
    }
  }

  private synchronized void fenceIfOverdue() {
    Duration since = Duration.between(lastRenewed, clock.instant());
    if (fenced || since.compareTo(fenceAfter) <= 0) {
      return;
    }
    fenced = true;
    String why =
        "fenced: the node Lease was last renewed "
            + since.toSeconds()
            + " s ago (fence time "
            + fenceAfter.toSeconds()
            + " s); its VMs are stopped before the operator can move them to another node";
    LOG.error("{}", why);
    onFence.accept(why);
  }

  /** Renewal attempts that failed or threw since the start. */
  public long failures() {
    return failures.get();
  }

  /** Whether this node has fenced itself; it stays fenced until the agent restarts. */
  public boolean fenced() {
    return fenced;
  }
}
