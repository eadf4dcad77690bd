package dev.hearth.vmm.vm;

import java.util.List;

/**
 * Where a VM's vCPU threads ask whether to run, pause or stop, and where the VM waits for them to
 * have paused. One monitor ({@link #lock}) guards it; the VM holds it across a pause, a resume or a
 * snapshot, so that nothing resumes the vCPUs meanwhile. It is not the VM's own monitor: a pause
 * that waits must not keep {@link MicroVm#close} from stopping the VM.
 */
final class VcpuGate {
  private final Object lock = new Object();
  private volatile boolean stopRequested;
  private volatile boolean pauseRequested;
  private int paused;

  /**
   * Asks every runner to pause, kicks them out of KVM_RUN and waits until every live one waits in
   * {@link #awaitUnpaused}. Returns false if the VM was stopped meanwhile.
   */
  boolean pauseAll(List<VcpuRunner> runners) throws InterruptedException {
    synchronized (lock) {
      pauseRequested = true;
      runners.forEach(VcpuRunner::kick);
      while (paused < live(runners) && !stopRequested) {
        lock.wait(100);
      }
      return !stopRequested;
    }
  }

  /** Lets paused runners go on. */
  void resumeAll() {
    synchronized (lock) {
      pauseRequested = false;
      lock.notifyAll();
    }
  }

  /** Every runner is to stop: paused ones wake up to leave. */
  void stopAll() {
    stopRequested = true;
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** The gate's monitor. */
  Object lock() {
    return lock;
  }

  /** Called by a runner: blocks while a pause is requested and no stop is. */
  void awaitUnpaused() throws InterruptedException {
    synchronized (lock) {
      paused++;
      lock.notifyAll();
      try {
        while (pauseRequested && !stopRequested) {
          lock.wait();
        }
      } finally {
        paused--;
      }
    }
  }

  boolean stopRequested() {
    return stopRequested;
  }

  boolean pauseRequested() {
    return pauseRequested;
  }

  private static int live(List<VcpuRunner> runners) {
    int n = 0;
    for (VcpuRunner r : runners) {
      if (r.isAlive()) {
        n++;
      }
    }
    return n;
  }
}
