package dev.hearth.vmm.devices;

import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import dev.hearth.vmm.ratelimit.TokenGate;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.text.MessageFormat;

/**
 * The one way a VM's devices log what its guest can make happen (a broken ring, a failed request, a
 * refused connection): per VM, at most {@link #DEFAULT_LIMIT}'s burst of lines at once and then one
 * a second; the lines held back are counted, and the next line let through is preceded by "N device
 * log lines suppressed". A guest that breaks its devices in a loop thus costs the host's log about
 * a line a second, not one per break. Lines below the logger's level cost nothing and spend no
 * token. Thread-safe.
 */
public final class DeviceLog {
  /** Ten lines at once, refilled at one a second. */
  public static final TokenBucketConfig DEFAULT_LIMIT = new TokenBucketConfig(10, 0, 10_000);

  /** Where a line that passes goes; the real one is the logger itself. */
  @FunctionalInterface
  public interface Sink {
    void log(Logger logger, Level level, String message);
  }

  private final String vm;
  private final TokenGate gate;
  private final Sink sink;
  private long suppressed;

  /** The log of the VM {@code vm}, with {@link #DEFAULT_LIMIT}, writing to the loggers given. */
  public DeviceLog(String vm) {
    this(vm, DEFAULT_LIMIT, Clock.SYSTEM, Logger::log);
  }

  public DeviceLog(String vm, TokenBucketConfig limit, Clock clock, Sink sink) {
    this.vm = vm;
    this.gate = new TokenGate(limit, clock);
    this.sink = sink;
  }

  /**
   * Logs {@code format} ({@link MessageFormat}, {@code {0}} for the first argument) with {@code
   * args} at {@code level} on {@code logger}, prefixed with the VM's name, if the VM's budget
   * allows.
   */
  public void log(Logger logger, Level level, String format, Object... args) {
    if (!logger.isLoggable(level)) {
      return;
    }
    long held;
    synchronized (this) {
      if (!gate.tryTake()) {
        suppressed++;
        return;
      }
      held = suppressed;
      suppressed = 0;
    }
    if (held > 0) {
      sink.log(logger, level, vm + ": " + held + " device log lines suppressed (rate limit)");
    }
    sink.log(logger, level, vm + ": " + MessageFormat.format(format, args));
  }

  /** Lines held back since the last one let through. */
  public synchronized long suppressed() {
    return suppressed;
  }
}
