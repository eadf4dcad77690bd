package dev.hearth.agent.runtime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A booted VM, as the agent sees it. */
public interface RunningVm {
  /** Completes once, when the VM has stopped for any reason (including {@link #stop}). */
  CompletableFuture<VmExit> exit();

  /**
   * Completes when the guest signals boot-complete (the boot-timer device), with the time taken.
   */
  CompletableFuture<Duration> booted();

  /**
   * Queues {@code bytes} for the guest's serial port (console input); returns how many were taken,
   * fewer (even 0) while the UART's receive FIFO is full, and 0 once the VM has ended. Never
   * blocks.
   */
  int offerConsoleInput(byte[] bytes);

  /** Applies rate limits to a running VM without restarting it. */
  void updateLimits(VmLaunch.Limits limits);

  /**
   * Asks the guest to shut down and waits up to {@code grace}, then stops it hard. Returns when it
   * is stopped and its threads and fds are released; {@link #exit()} is complete by then.
   */
  void stop(Duration grace, String reason);
}
