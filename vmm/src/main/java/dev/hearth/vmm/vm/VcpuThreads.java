package dev.hearth.vmm.vm;

import dev.hearth.vmm.devices.bus.Bus;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.sys.seccomp.ThreadSandbox;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A VM's vCPU threads: one {@link VcpuRunner} per vCPU, the {@link VcpuGate} at which they pause
 * and stop, and the joins that wait for them to leave the guest. The runners report to it, and it
 * passes the guest's end on to the VM's {@link VmEnd}.
 */
final class VcpuThreads implements VcpuRunner.Owner {
  private final VmEnd end;
  private final VcpuGate gate = new VcpuGate();
  // Read by exits() from any thread while create() fills it.
  private final List<VcpuRunner> runners = new CopyOnWriteArrayList<>();

  VcpuThreads(VmEnd end) {
    this.end = end;
  }

  /**
   * The gate's monitor: held across a pause, a resume or a snapshot, so that nothing resumes the
   * vCPUs meanwhile.
   */
  Object lock() {
    return gate.lock();
  }

  /** Makes one runner per vCPU, named {@code vcpu-<vm>-<id>}; none runs before {@link #start}. */
  void create(List<VcpuFd> vcpus, Bus pio, Bus mmio, String vmName, ThreadSandbox sandbox) {
    for (VcpuFd vcpu : vcpus) {
      runners.add(
          new VcpuRunner(vcpu, pio, mmio, this, "vcpu-" + vmName + "-" + vcpu.id(), sandbox));
    }
  }

  void start() {
    runners.forEach(VcpuRunner::start);
  }

  /** Pauses every vCPU; false if the VM was stopped meanwhile. */
  boolean pause() throws InterruptedException {
    return gate.pauseAll(runners);
  }

  void resume() {
    gate.resumeAll();
  }

  /** Every vCPU leaves the guest: paused ones wake up, running ones are kicked out of KVM_RUN. */
  void stop() {
    gate.stopAll();
    runners.forEach(VcpuRunner::kick);
  }

  /** KVM_RUN returns so far, per vCPU. */
  List<Long> exits() {
    return runners.stream().map(VcpuRunner::exits).toList();
  }

  /** Waits for every vCPU thread to finish. */
  void join() throws InterruptedException {
    for (VcpuRunner r : runners) {
      r.join();
    }
  }

  /**
   * Joins the vCPU threads until {@code deadline} (a {@link System#nanoTime} value), with at least
   * a second's grace; a thread still in the guest by then is a VMM fault, reported by name with
   * {@code exit}.
   */
  void join(long deadline, VmExit exit) throws InterruptedException {
    for (VcpuRunner r : runners) {
      long left = Math.max(deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(1));
      r.join(Duration.ofNanos(left));
      if (r.isAlive()) {
        throw new VmException(
            r.name() + " did not leave the guest after the VM ended (" + exit + ")");
      }
    }
  }

  @Override
  public void guestEnded(VmExit exit) {
    end.end(exit);
  }

  @Override
  public long uptimeNanos() {
    return end.uptimeNanos();
  }

  @Override
  public void awaitUnpaused(VcpuRunner runner) throws InterruptedException {
    gate.awaitUnpaused();
  }

  @Override
  public boolean stopRequested() {
    return gate.stopRequested();
  }

  @Override
  public boolean pauseRequested() {
    return gate.pauseRequested();
  }
}
