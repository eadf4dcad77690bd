package dev.hearth.vmm.vm;

import dev.hearth.vmm.devices.bus.Bus;
import dev.hearth.vmm.kvm.KvmIoctls;
import dev.hearth.vmm.kvm.VcpuExit;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.sys.ThreadSignals;
import dev.hearth.vmm.sys.seccomp.ThreadProfile;
import dev.hearth.vmm.sys.seccomp.ThreadSandbox;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Optional;

/**
 * What runs one vCPU on a platform thread ({@link VcpuThreadPool}): KVM_RUN, then dispatch of the
 * exit to the buses, until the guest ends or the VM stops it. Stopping and pausing use {@code
 * immediate_exit} plus a signal, so that a vCPU blocked in the kernel (halted, waiting for an
 * interrupt) comes back at once.
 */
final class VcpuRunner {
  /** What the runner reports to its VM. */
  interface Owner {
    void guestEnded(VmExit exit);

    long uptimeNanos();

    /** Blocks while the VM is paused; returns at once otherwise. */
    void awaitUnpaused(VcpuRunner runner) throws InterruptedException;

    boolean stopRequested();

    boolean pauseRequested();
  }

  private final VcpuFd vcpu;
  private final Bus pio;
  private final Bus mmio;
  private final Owner owner;
  private final ThreadSandbox sandbox;
  private final String name;
  private volatile VcpuThreadPool.Task task;
  private final Object kickLock = new Object();
  private volatile long exits;
  private long pthreadId;
  private boolean alive;

  VcpuRunner(VcpuFd vcpu, Bus pio, Bus mmio, Owner owner, String name, ThreadSandbox sandbox) {
    this.vcpu = vcpu;
    this.pio = pio;
    this.mmio = mmio;
    this.owner = owner;
    this.sandbox = sandbox;
    this.name = name;
  }

  /** Runs the vCPU on a thread of the pool for the sandbox's mode. */
  void start() {
    task = VcpuThreadPool.forMode(sandbox.mode()).start(name, this::run);
  }

  /** Waits until the vCPU is done with its thread (at once if it never started). */
  void join() throws InterruptedException {
    VcpuThreadPool.Task t = task;
    if (t != null) {
      t.join();
    }
  }

  boolean join(Duration limit) throws InterruptedException {
    VcpuThreadPool.Task t = task;
    return t == null || t.join(limit);
  }

  String name() {
    return name;
  }

  /** Whether the vCPU was started and still has its thread. */
  boolean isAlive() {
    VcpuThreadPool.Task t = task;
    return t != null && t.isAlive();
  }

  /** Makes the vCPU leave KVM_RUN soon, wherever it is. */
  void kick() {
    // The caller's stop or pause flag must be visible before immediate_exit is: the runner reads
    // the flags after clearing immediate_exit.
    VarHandle.fullFence();
    synchronized (kickLock) {
      // Only while the runner holds its thread. Once it has left, the VM's close (on another
      // thread, joining the runners) may have unmapped kvm_run already: writing immediate_exit
      // there crashed the JVM when a paused VM was stopped, its vCPUs leaving at the stop flag
      // before this kick. A runner not yet started reads the flags before its first KVM_RUN.
      if (!alive) {
        return;
      }
      vcpu.setImmediateExit(true);
      // On the runner's own thread (the guest ended itself through a device) the vCPU is not in
      // KVM_RUN, and the loop reads the flags before it enters again: no signal is needed.
      if (pthreadId != ThreadSignals.currentThreadId()) {
        ThreadSignals.kick(pthreadId);
      }
    }
  }

  /** KVM_RUN returns so far: every exit the guest made on this vCPU. */
  long exits() {
    return exits;
  }

  private void run() {
    synchronized (kickLock) {
      pthreadId = ThreadSignals.currentThreadId();
      alive = true;
    }
    try {
      sandbox.enter(ThreadProfile.VCPU);
      loop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      owner.guestEnded(
          exit(ExitReason.VMM_ERROR, "vCPU " + vcpu.id() + " failed: " + e, null, new byte[0]));
    } finally {
      synchronized (kickLock) {
        alive = false;
      }
    }
  }

  private void loop() throws InterruptedException {
    while (true) {
      // Clear immediate_exit before reading the flags: a stop or pause that comes after the read
      // sets it again, and KVM_RUN then returns at once.
      vcpu.setImmediateExit(false);
      // Without this fence the clear could become visible after the flag reads below (a store
      // then a load may be reordered, by the JIT and by x86 itself): a kick landing in between
      // would have its immediate_exit overwritten and its signal taken before KVM_RUN, and the
      // vCPU would run on, unstoppable.
      VarHandle.fullFence();
      if (owner.stopRequested()) {
        return;
      }
      if (owner.pauseRequested()) {
        // The last exit's I/O is complete, and the vCPU's state consistent, only once KVM_RUN is
        // entered again (KVM's api.rst): enter it with immediate_exit, which finishes the I/O and
        // returns before the next guest instruction.
        vcpu.setImmediateExit(true);
        VcpuExit pending = vcpu.run();
        if (!(pending instanceof VcpuExit.Interrupted)) {
          exits++;
          if (!handle(pending)) {
            return;
          }
          continue;
        }
        owner.awaitUnpaused(this);
        continue;
      }
      VcpuExit exit = vcpu.run();
      exits++; // this thread alone writes it
      if (!handle(exit)) {
        return;
      }
    }
  }

  /** Handles one exit; returns false when the guest has ended. */
  private boolean handle(VcpuExit exit) {
    switch (exit) {
      case VcpuExit.IoIn in -> {
        byte[] buf = new byte[in.size()];
        for (int i = 0; i < in.count(); i++) {
          pio.read(in.port(), buf);
          MemorySegment.copy(
              buf, 0, in.data(), ValueLayout.JAVA_BYTE, (long) i * in.size(), buf.length);
        }
      }
      case VcpuExit.IoOut out -> {
        for (int i = 0; i < out.count(); i++) {
          byte[] chunk = new byte[out.size()];
          System.arraycopy(out.data(), i * out.size(), chunk, 0, out.size());
          pio.write(out.port(), chunk);
        }
      }
      case VcpuExit.MmioRead r -> {
        byte[] buf = new byte[(int) r.data().byteSize()];
        mmio.read(r.address(), buf);
        MemorySegment.copy(buf, 0, r.data(), ValueLayout.JAVA_BYTE, 0, buf.length);
      }
      case VcpuExit.MmioWrite w -> mmio.write(w.address(), w.data());
      case VcpuExit.Interrupted i -> {}
      case VcpuExit.Hlt h -> {
        return end(exit(ExitReason.HALTED, "vCPU " + vcpu.id() + " halted", null, new byte[0]));
      }
      case VcpuExit.Shutdown s -> {
        return end(
            exit(ExitReason.CRASHED, "vCPU " + vcpu.id() + " triple-faulted", dump(), new byte[0]));
      }
      case VcpuExit.SystemEvent e -> {
        return end(
            switch (e.type()) {
              case KvmIoctls.KVM_SYSTEM_EVENT_RESET ->
                  exit(ExitReason.RESET, "the guest reset itself", null, new byte[0]);
              case KvmIoctls.KVM_SYSTEM_EVENT_SHUTDOWN ->
                  exit(ExitReason.SHUTDOWN, "the guest powered off", null, new byte[0]);
              default ->
                  exit(
                      ExitReason.CRASHED,
                      "system event " + e.type() + " on vCPU " + vcpu.id(),
                      dump(),
                      new byte[0]);
            });
      }
      case VcpuExit.InternalError e -> {
        if (e.isEmulationFailure()) {
          return end(
              exit(
                  ExitReason.EMULATION_FAILURE,
                  "KVM could not emulate an instruction on vCPU " + vcpu.id(),
                  dump(),
                  e.instructionBytes()));
        }
        return end(
            exit(
                ExitReason.CRASHED,
                "KVM internal error, suberror " + e.suberror() + ", on vCPU " + vcpu.id(),
                dump(),
                new byte[0]));
      }
      case VcpuExit.FailEntry f -> {
        return end(
            exit(
                ExitReason.CRASHED,
                "KVM could not enter the guest on vCPU "
                    + vcpu.id()
                    + " (hardware reason 0x"
                    + Long.toHexString(f.hardwareReason())
                    + ")",
                dump(),
                new byte[0]));
      }
      case VcpuExit.Other o -> {
        return end(
            exit(
                ExitReason.CRASHED,
                "unhandled KVM exit reason " + o.reason() + " on vCPU " + vcpu.id(),
                dump(),
                new byte[0]));
      }
    }
    return true;
  }

  private boolean end(VmExit exit) {
    owner.guestEnded(exit);
    return false;
  }

  private RegisterDump dump() {
    try {
      return new RegisterDump(vcpu.id(), vcpu.getRegs(), vcpu.getSregs());
    } catch (RuntimeException e) {
      return null;
    }
  }

  private VmExit exit(ExitReason reason, String message, RegisterDump regs, byte[] insn) {
    return new VmExit(
        reason, message, Optional.ofNullable(regs), insn, Duration.ofNanos(owner.uptimeNanos()));
  }
}
