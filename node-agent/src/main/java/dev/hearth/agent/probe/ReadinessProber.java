package dev.hearth.agent.probe;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the readiness probes of the node's VMs: the agent's one timer thread schedules each check,
 * and each connection attempt runs on a virtual thread of its own, bounded by the probe's timeout,
 * so no platform thread is held per VM and a guest that never answers holds nothing past its
 * timeout. A probe reports only changes: Ready after {@code successThreshold} successes in a row,
 * unready after {@code failureThreshold} failures in a row.
 */
public final class ReadinessProber {
  /** How a check reaches the guest: a TCP connect from the node, or a test's stand-in. */
  @FunctionalInterface
  public interface Connector {
    /** Connects and closes; throws when the port does not accept within {@code timeout}. */
    void connect(InetSocketAddress address, Duration timeout) throws IOException;
  }

  /** Told when a probe's verdict changes. */
  @FunctionalInterface
  public interface Listener {
    void changed(boolean ready, String message);
  }

  /** One VM's running probe; closing it stops the checks. */
  public interface Watch extends AutoCloseable {
    @Override
    void close();
  }

  /** A plain TCP connect from the node's network namespace. */
  public static final Connector TCP =
      (address, timeout) -> {
        try (Socket s = new Socket()) {
          s.connect(address, (int) timeout.toMillis());
        }
      };

  private final ScheduledExecutorService timers;
  private final Connector connector;

  public ReadinessProber(ScheduledExecutorService timers, Connector connector) {
    this.timers = timers;
    this.connector = connector;
  }

  /** Starts checking port {@code check.port()} of {@code ip}; the VM starts out unready. */
  public Watch watch(InetAddress ip, ReadinessCheck check, Listener listener) {
    Probe probe = new Probe(new InetSocketAddress(ip, check.port()), check, listener);
    probe.future =
        timers.scheduleWithFixedDelay(
            probe::fire,
            check.initialDelay().toMillis(),
            check.period().toMillis(),
            TimeUnit.MILLISECONDS);
    return probe;
  }

  private final class Probe implements Watch {
    private final InetSocketAddress address;
    private final ReadinessCheck check;
    private final Listener listener;
    private volatile ScheduledFuture<?> future;
    private volatile boolean closed;
    // Touched by one attempt at a time: fire() skips while one is in flight.
    private boolean inFlight;
    private boolean ready;
    private int successes;
    private int failures;

    Probe(InetSocketAddress address, ReadinessCheck check, Listener listener) {
      this.address = address;
      this.check = check;
      this.listener = listener;
    }

    private synchronized void fire() {
      if (closed || inFlight) {
        return;
      }
      inFlight = true;
      Thread.ofVirtual().name("hearth-probe-" + address).start(this::attempt);
    }

    private void attempt() {
      String failure = null;
      try {
        connector.connect(address, check.timeout());
      } catch (IOException | RuntimeException e) {
        failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      }
      record(failure);
    }

    private void record(String failure) {
      String message = null;
      boolean nowReady;
      synchronized (this) {
        inFlight = false;
        if (closed) {
          return;
        }
        if (failure == null) {
          failures = 0;
          successes++;
          if (!ready && successes >= check.successThreshold()) {
            ready = true;
            message = "TCP port " + address.getPort() + " accepts connections";
          }
        } else {
          successes = 0;
          failures++;
          if (ready && failures >= check.failureThreshold()) {
            ready = false;
            message =
                "TCP port "
                    + address.getPort()
                    + " failed "
                    + failures
                    + " checks in a row: "
                    + failure;
          }
        }
        nowReady = ready;
      }
      if (message != null) {
        listener.changed(nowReady, message);
      }
    }

    @Override
    public void close() {
      closed = true;
      ScheduledFuture<?> f = future;
      if (f != null) {
        f.cancel(false);
      }
    }
  }
}
