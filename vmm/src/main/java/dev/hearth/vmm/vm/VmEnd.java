package dev.hearth.vmm.vm;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * How and when a VM ends, made before any of its parts so that every part (the i8042's reset line,
 * the event loop, a device thread, a vCPU) can end the VM without a reference back to it. The first
 * end wins; {@link MicroVm} reacts to it through {@link #future()}.
 */
final class VmEnd {
  private final CompletableFuture<VmExit> future = new CompletableFuture<>();
  private volatile long startNanos;

  /** The VM's end, completed once. */
  CompletableFuture<VmExit> future() {
    return future;
  }

  /** The guest starts (or resumes after a restore) now. */
  void markStart() {
    startNanos = System.nanoTime();
  }

  /** Nanoseconds since {@link #markStart}, or 0 before it. */
  long uptimeNanos() {
    long start = startNanos;
    return start == 0 ? 0 : System.nanoTime() - start;
  }

  /** Ends the VM with {@code exit} unless it has already ended. */
  void end(VmExit exit) {
    future.complete(exit);
  }

  /** Ends the VM for {@code reason}, with no register dump. */
  void end(ExitReason reason, String message) {
    end(
        new VmExit(
            reason, message, Optional.empty(), new byte[0], Duration.ofNanos(uptimeNanos())));
  }
}
