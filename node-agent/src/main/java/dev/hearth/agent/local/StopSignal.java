package dev.hearth.agent.local;

import dev.hearth.vmm.vm.MicroVm;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) and SIGTERM for one {@code hearth run}, through a shutdown hook: it stops the VM
 * that runs, or cuts a restart back-off short, and then holds the JVM until the run has removed
 * what it made (taps, bridge, rules, disk copies), since the JVM ends when its hooks return.
 */
final class StopSignal implements AutoCloseable {
  /** How long the hook waits for the run to clean up before the JVM exits anyway. */
  private static final Duration CLEANUP_LIMIT = Duration.ofSeconds(30);

  private final CountDownLatch requested = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook;
  private MicroVm current;

  private StopSignal(String name, PrintStream status) {
    this.hook =
        Thread.ofPlatform()
            .name("hearth-run-stop")
            .unstarted(
                () -> {
                  request();
                  try {
                    finished.await(CLEANUP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  status.printf("hearth: stopped %s (interrupted)%n", name);
                });
  }

  /** A signal for the run of {@code name}, its hook registered. */
  static StopSignal install(String name, PrintStream status) {
    StopSignal s = new StopSignal(name, status);
    Runtime.getRuntime().addShutdownHook(s.hook);
    return s;
  }

  /** Asks the run to stop: the VM that runs stops, a back-off wait ends. */
  void request() {
    requested.countDown();
    synchronized (this) {
      if (current != null) {
        current.stop();
      }
    }
  }

  boolean requested() {
    return requested.getCount() == 0;
  }

  /** Makes {@code vm} the one a stop request stops; false when a stop was asked for already. */
  synchronized boolean track(MicroVm vm) {
    if (requested()) {
      return false;
    }
    current = vm;
    return true;
  }

  synchronized void untrack() {
    current = null;
  }

  /** Waits {@code delay} or until a stop request; true when stopped. */
  boolean await(Duration delay) throws InterruptedException {
    return requested.await(delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The run has cleaned up: lets a running hook finish, or unregisters the hook. */
  @Override
  public void close() {
    finished.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs, and now returns.
    }
  }
}
