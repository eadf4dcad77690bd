package dev.hearth.vmm.devices.legacy;

import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Firecracker's boot timer: the guest's init writes the magic byte 123 (to MMIO 0xd0000000, or to
 * I/O port 0x3f0 on older guests) when it is up, and the VMM records the time since the VM started.
 * The first such write counts; later ones and other values are ignored.
 */
public final class BootTimer implements BusDevice, Snapshottable<BootTimerState> {
  /** The magic value that means "boot complete". */
  public static final int MAGIC = 123;

  private final LongSupplier nanoClock;
  private final Consumer<Duration> onBoot;
  private volatile long startNanos;
  private volatile Duration bootTime;
  private final CompletableFuture<Duration> booted = new CompletableFuture<>();

  /** A timer reading {@code nanoClock} that tells {@code onBoot} the boot time, once. */
  public BootTimer(LongSupplier nanoClock, Consumer<Duration> onBoot) {
    this.nanoClock = nanoClock;
    this.onBoot = onBoot;
    this.startNanos = nanoClock.getAsLong();
  }

  /** Starts counting from now (when the first vCPU is about to run). */
  public void markStart() {
    startNanos = nanoClock.getAsLong();
  }

  /** The boot time, once the guest has signalled it. */
  public Optional<Duration> bootTime() {
    return Optional.ofNullable(bootTime);
  }

  /** Completes with the boot time when the guest signals it (never, if it does not). */
  public CompletableFuture<Duration> booted() {
    return booted.copy();
  }

  @Override
  public synchronized BootTimerState saveState() {
    Duration d = bootTime;
    return new BootTimerState(d == null ? -1 : d.toNanos());
  }

  /** A restored guest keeps the boot time it signalled before; it will not signal again. */
  @Override
  public synchronized void restoreState(BootTimerState s) {
    bootTime = s.bootNanos() < 0 ? null : Duration.ofNanos(s.bootNanos());
  }

  @Override
  public void read(long offset, byte[] data) {
    java.util.Arrays.fill(data, (byte) 0);
  }

  @Override
  public void write(long offset, byte[] data) {
    if (offset != 0 || data.length == 0 || Byte.toUnsignedInt(data[0]) != MAGIC) {
      return;
    }
    Duration d;
    synchronized (this) {
      if (bootTime != null) {
        return;
      }
      d = Duration.ofNanos(nanoClock.getAsLong() - startNanos);
      bootTime = d;
    }
    booted.complete(d);
    onBoot.accept(d);
  }
}
