package dev.hearth.agent.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A booted VM, as the agent sees it. */
public interface RunningVm {
  /** Completes once, when the VM has stopped for any reason (including {@link #stop}). */
  CompletableFuture<GuestExit> exit();

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

  /** Stops every vCPU and returns once none runs guest code; memory and devices stay. */
  void pause() throws VmStartException;

  /** Runs a {@link #pause}d guest again. */
  void resume();

  /**
   * Pauses the guest, writes its snapshot into {@code dir} (made if missing), then stops the VM and
   * frees its memory, threads and fds; {@link #exit()} is complete when this returns. {@link
   * VmRuntime#restore} goes on from the snapshot. If the snapshot cannot be written, the guest runs
   * on (resumed, unless it was paused before) and this throws.
   *
   * @throws VmStartException reason {@code SuspendFailed}, the cause in the message
   */
  void suspend(Path dir) throws VmStartException;
}
