package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.devices.bus.MmioBus;
import dev.hearth.vmm.devices.bus.PioBus;
import dev.hearth.vmm.devices.legacy.ConsoleOutput;
import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.devices.legacy.Serial16550;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.sys.ThreadSignals;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * One microVM: guest memory, a KVM VM with its in-kernel irqchip and PIT, the legacy devices
 * (serial console, i8042, boot timer), the virtio devices its config lists (block, net, vsock,
 * rng), one platform thread per vCPU and one event-loop thread (plus one for vsock host sockets).
 *
 * <p>Lifecycle: {@link #create} loads the kernel, prepares every vCPU and builds the configured
 * virtio devices; further devices may then be added ({@link #addVirtioMmioDevice}); {@link #start}
 * writes the boot parameters and runs the vCPUs; {@link #waitForExit} returns how the guest ended;
 * {@link #close} releases every fd, mapping and thread. {@link #pause}, {@link #resume} and {@link
 * #stop} may be called from any thread.
 *
 * <pre>{@code
 * VmConfig config = VmConfig.of("hello", 1, 16, BootSource.of(kernel, "console=ttyS0"));
 * try (MicroVm vm = MicroVm.create(config, System.out)) {
 *   vm.start();
 *   VmExit exit = vm.waitForExit();
 * }
 * }</pre>
 */
public final class MicroVm implements AutoCloseable {
  /** Where the VM is in its life. */
  public enum State {
    CREATED,
    RUNNING,
    PAUSED,
    EXITED,
    CLOSED
  }

  private final VmConfig config;
  private final VmParts parts;
  private final VcpuThreads vcpus;
  private final CompletableFuture<VmExit> exit;
  private final VmRateLimiters rateLimiters;
  private volatile State state = State.CREATED;
  private boolean restored;

  /**
   * Takes over {@code parts}. An end that came while they were built (a device thread died) is
   * acted on at once.
   */
  MicroVm(VmConfig config, VmParts parts) {
    this.config = config;
    this.parts = parts;
    this.vcpus = new VcpuThreads(parts.end);
    this.exit = parts.end.future();
    this.rateLimiters =
        new VmRateLimiters(config.name(), parts.devices, () -> state == State.CLOSED);
    exit.thenRun(this::onEnded);
  }

  /**
   * Creates a VM from {@code config}: maps its memory, loads its kernel (and initrd), and sets up
   * its vCPUs and legacy devices. Console output goes to the VM's ring buffer and to {@code
   * consoleSink} (may be null).
   *
   * @throws dev.hearth.vmm.kvm.KvmException if KVM is missing or refuses
   * @throws dev.hearth.vmm.loader.LoaderException if the kernel or initrd cannot be loaded
   */
  public static MicroVm create(VmConfig config, OutputStream consoleSink) {
    VmBuilder builder = new VmBuilder(config, consoleSink, new VmEnd());
    try {
      return new MicroVm(
          config, builder.memory().irqchip().vcpus().legacyDevices().virtioDevices().boot());
    } catch (RuntimeException | Error e) {
      throw builder.abandon(e);
    }
  }

  /**
   * Builds a new VM from the snapshot in {@code dir} (written by {@link #snapshot}), in this
   * process or another: guest memory is mapped copy-on-write from the snapshot's memory file, so
   * pages are read only as the guest touches them, and every vCPU, the irqchip, PIT, kvmclock and
   * every device get their saved state. No kernel is loaded. {@link #start} then resumes the guest
   * where it stopped. Vsock connections are not restored: the guest gets a transport-reset event.
   *
   * <p>{@code config} says where the restored VM's host resources are (disk files, taps, the vsock
   * socket); its vCPUs, memory size and devices (kinds and ids, in order) must be the snapshot's,
   * and its boot source is not used. The snapshot directory must stay in place while the VM runs.
   *
   * @throws dev.hearth.vmm.snapshot.SnapshotException if the snapshot is missing, truncated,
   *     corrupted, of another format version, taken on an incompatible CPU, or does not fit {@code
   *     config}; or if this KVM refuses the saved state
   */
  public static MicroVm restore(Path dir, VmConfig config, OutputStream consoleSink) {
    MicroVm vm = new MicroVm(config, VmSnapshots.restore(dir, config, consoleSink, new VmEnd()));
    vm.restored = true;
    return vm;
  }

  /**
   * Writes a snapshot of this paused VM into {@code dir} (created if missing; an earlier snapshot
   * there is replaced): the state file, versioned and checksummed, and the guest memory file. The
   * VM stays paused: {@link #resume} continues it, {@link #close} ends it (a suspend), and {@link
   * #restore} builds a new VM from the snapshot.
   *
   * @throws VmException if the VM is not {@link State#PAUSED}
   * @throws dev.hearth.vmm.snapshot.SnapshotException if the state cannot be read from KVM (the
   *     message names the ioctl) or the files cannot be written
   */
  public void snapshot(Path dir) {
    synchronized (vcpus.lock()) {
      if (state != State.PAUSED) {
        throw new VmException(
            "VM " + config.name() + " must be paused to be snapshotted (it is " + state + ")");
      }
      VmSnapshots.save(parts, dir);
    }
  }

  /**
   * Writes a diff snapshot of this paused VM into {@code dir}: the state file as {@link #snapshot}
   * writes it, and of guest memory only the pages written since this VM's last snapshot (full or
   * diff), or since its restore, with a reference to that snapshot and its checksum. {@link
   * #restore} of {@code dir} lays the diff over its parent, and the parent's parents down to the
   * full snapshot; all of them must stay in place. Pages are found by KVM's dirty log (the guest's
   * writes) and by the VMM's own record of what its devices wrote.
   *
   * @throws VmException if the VM is not {@link State#PAUSED}
   * @throws dev.hearth.vmm.snapshot.SnapshotException if there is no snapshot to take it against,
   *     {@code dir} is that snapshot's, this KVM cannot log dirty pages, or the files cannot be
   *     written (the next snapshot must then be a full one)
   */
  public void snapshotDiff(Path dir) {
    synchronized (vcpus.lock()) {
      if (state != State.PAUSED) {
        throw new VmException(
            "VM " + config.name() + " must be paused to be snapshotted (it is " + state + ")");
      }
      VmSnapshots.saveDiff(parts, dir);
    }
  }

  /** The config this VM was made from. */
  public VmConfig config() {
    return config;
  }

  /** Where the VM is in its life. */
  public State state() {
    return state;
  }

  /** The console's output so far (the last {@link VmConfig#consoleBufferBytes} bytes). */
  public ConsoleOutput console() {
    return parts.console;
  }

  /** The serial port, to feed the guest console input ({@link Serial16550#enqueueInput}). */
  public Serial16550 serial() {
    return parts.serial;
  }

  /**
   * Feeds console input from {@code source} (a terminal's stdin, a socket) to the guest's serial
   * port on a daemon thread, holding back while the UART's FIFO is full. The thread ends at end of
   * input or once the VM has ended; a read that blocks keeps it until its next byte.
   */
  public void connectConsoleInput(InputStream source) {
    ConsoleInputFeeder.start(
        config.name(), source, parts.serial, () -> state == State.CLOSED || exit.isDone());
  }

  /** The boot time the guest signalled through the boot timer, once it has. */
  public Optional<Duration> bootTime() {
    return parts.bootTimer.bootTime();
  }

  /**
   * The exit status the guest reported through the guest-exit port (Hearth's container init does,
   * before it ends the VM), once it has; it stays readable after the VM has ended and closed.
   */
  public Optional<GuestExitPort.Status> guestExitStatus() {
    return parts.guestExit.status();
  }

  /** Completes with the boot time when the guest signals it through the boot timer. */
  public CompletableFuture<Duration> booted() {
    return parts.bootTimer.booted();
  }

  /**
   * Completes when the guest has ended, with how; its vCPU threads may still be leaving the guest
   * then ({@link #close} waits for them). Callbacks run on the thread that ended it: hand blocking
   * work to another.
   */
  public CompletableFuture<VmExit> exited() {
    return exit.copy();
  }

  /** The guest's memory, for devices. */
  public GuestMemory memory() {
    return parts.memory.memory();
  }

  /** The KVM VM, for devices that register ioeventfds and irqfds. */
  public VmFd vmFd() {
    return parts.vm;
  }

  /** The VM's event loop, on which devices register their fds. */
  public EventLoop eventLoop() {
    return parts.eventLoop;
  }

  /** The PIO bus. */
  public PioBus pioBus() {
    return parts.pio;
  }

  /** The MMIO bus. */
  public MmioBus mmioBus() {
    return parts.mmio;
  }

  /**
   * Gives a virtio-mmio device the next MMIO slot and GSI, puts it on the MMIO bus, and announces
   * it on the kernel command line ({@code virtio_mmio.device=4K@0x...:gsi}). Only before {@link
   * #start}.
   *
   * @param factory makes the device, given its slot and interrupt line
   */
  public synchronized MmioSlot addVirtioMmioDevice(
      String name, Function<MmioSlot, BusDevice> factory) {
    if (state != State.CREATED) {
      throw new VmException("devices can only be added before the VM starts (it is " + state + ")");
    }
    MmioSlot slot = parts.slots.allocate(name);
    parts.slots.register(slot, factory.apply(slot), name);
    return slot;
  }

  /**
   * What the VM has done so far: exits per vCPU, requests, bytes and throttling per rate limiter,
   * bytes per drive. Cheap, and readable after {@link #close} (the last values stay).
   */
  public VmCounters counters() {
    return new VmCounters(
        vcpus.exits(), parts.devices.limiterCounters(), parts.devices.driveCounters());
  }

  /** The VM's device rate limiters, to read and change while it runs. */
  public VmRateLimiters rateLimiters() {
    return rateLimiters;
  }

  /**
   * Starts every vCPU: at the kernel's entry after writing the boot parameters, or, for a {@link
   * #restore}d VM, where the snapshot left them.
   */
  public synchronized void start() {
    if (state != State.CREATED) {
      throw new VmException("the VM can only be started once (it is " + state + ")");
    }
    parts.writeBootParameters();
    vcpus.create(parts.vcpus, parts.pio, parts.mmio, config.name(), parts.eventLoop.sandbox());
    parts.eventLoop.start();
    if (restored) {
      // Requests the guest queued before the snapshot, and device work held back, go on now.
      parts.eventLoop.execute(parts.devices::notifyAllQueues);
    }
    parts.end.markStart();
    parts.bootTimer.markStart();
    state = State.RUNNING;
    vcpus.start();
  }

  /** Pauses every vCPU and returns once none is running guest code. */
  public void pause() throws InterruptedException {
    synchronized (vcpus.lock()) {
      if (state == State.RUNNING && vcpus.pause()) {
        state = State.PAUSED;
      }
    }
  }

  /** Resumes a paused VM. */
  public void resume() {
    synchronized (vcpus.lock()) {
      if (state == State.PAUSED) {
        state = State.RUNNING;
        vcpus.resume();
      }
    }
  }

  /** Stops the guest (exit reason {@link ExitReason#STOPPED} unless it already ended). */
  public void stop() {
    parts.end.end(ExitReason.STOPPED, "stopped by the host");
  }

  /** Waits for the guest to end and for every vCPU thread to finish; returns how it ended. */
  public VmExit waitForExit() throws InterruptedException {
    try {
      VmExit e = exit.get();
      vcpus.join();
      return e;
    } catch (ExecutionException e) {
      throw new VmException("waiting for the VM failed", e.getCause());
    }
  }

  /**
   * Like {@link #waitForExit()}, but gives up after {@code timeout}.
   *
   * @return the exit, or empty if the guest is still running
   */
  public Optional<VmExit> waitForExit(Duration timeout) throws InterruptedException {
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      VmExit e = exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      vcpus.join(deadline, e);
      return Optional.of(e);
    } catch (TimeoutException e) {
      return Optional.empty();
    } catch (ExecutionException e) {
      throw new VmException("waiting for the VM failed", e.getCause());
    }
  }

  /** Stops the guest if it runs, then releases every thread, fd and mapping. */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    if (state != State.CREATED) {
      stop();
    }
    try {
      vcpus.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    parts.close();
    state = State.CLOSED;
  }

  /** Runs once, on the thread that ended the VM. */
  private void onEnded() {
    state = State.EXITED;
    vcpus.stop();
    parts.console.flush();
  }

  static {
    // Install the vCPU kick handler before any vCPU thread exists.
    ThreadSignals.currentThreadId();
  }
}
