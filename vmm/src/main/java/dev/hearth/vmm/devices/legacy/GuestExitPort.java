package dev.hearth.vmm.devices.legacy;

import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.util.Arrays;
import java.util.Optional;

/**
 * Where a guest reports how its workload ended, an explicit channel instead of console text:
 * Hearth's container init writes one 32-bit value to this I/O port before it ends the VM. The value
 * is {@code 0x4845_0000 | kind << 8 | code}: the magic {@code "HE"} in the high half, then {@code
 * kind} (0: the process exited with {@code code}; 1: a signal, numbered {@code code}, killed it; 2:
 * the init could not start it, {@code code} its own reason) and the code. The first well-formed
 * write counts; anything else is ignored. The guest is the tenant's: it can only misreport its own
 * workload.
 *
 * <p>The report is part of a snapshot: a VM restored after its init reported ends with it.
 */
public final class GuestExitPort implements BusDevice, Snapshottable<GuestExitState> {
  /** The high half every report carries. */
  public static final int MAGIC = 0x4845_0000;

  /** How the guest's workload ended. */
  public enum Kind {
    /** The process exited with a code, 0 to 255. */
    EXITED,
    /** A signal ended the process; the code is its number. */
    SIGNALLED,
    /** The init could not start the process (no such file, bad image, cannot mount root). */
    NOT_STARTED
  }

  /**
   * One report.
   *
   * @param kind how the workload ended
   * @param code the exit code, the signal's number, or the init's reason code
   */
  public record Status(Kind kind, int code) {}

  private volatile Status status;
  private int report; // the raw value of status, for snapshots

  @Override
  public synchronized GuestExitState saveState() {
    return new GuestExitState(report);
  }

  /** A restored guest keeps the report it made before; a later write does not replace it. */
  @Override
  public synchronized void restoreState(GuestExitState s) {
    report = s.report();
    status = decode(report).orElse(null);
  }

  /** The first report, once the guest has written one. */
  public Optional<Status> status() {
    return Optional.ofNullable(status);
  }

  /** Decodes {@code value}, or empty when it is not a well-formed report. */
  public static Optional<Status> decode(int value) {
    if ((value & 0xffff_0000) != MAGIC) {
      return Optional.empty();
    }
    int kind = (value >>> 8) & 0xff;
    if (kind >= Kind.values().length) {
      return Optional.empty();
    }
    return Optional.of(new Status(Kind.values()[kind], value & 0xff));
  }

  @Override
  public void read(long offset, byte[] data) {
    Arrays.fill(data, (byte) 0);
  }

  @Override
  public void write(long offset, byte[] data) {
    if (offset != 0 || data.length != 4) {
      return;
    }
    int value =
        Byte.toUnsignedInt(data[0])
            | Byte.toUnsignedInt(data[1]) << 8
            | Byte.toUnsignedInt(data[2]) << 16
            | Byte.toUnsignedInt(data[3]) << 24;
    Optional<Status> decoded = decode(value);
    if (decoded.isEmpty()) {
      return;
    }
    synchronized (this) {
      if (status == null) {
        status = decoded.get();
        report = value;
      }
    }
  }
}
