package dev.hearth.vmm.devices.legacy;

import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Just enough of the i8042 keyboard controller for Linux's driver and for {@code reboot=k}: the
 * controller commands that read and write its configuration and output port, and command 0xFE
 * (pulse the CPU reset line), which ends the VM with a reset. Registered over ports 0x60..0x64:
 * offset 0 is data, offset 4 is status/command.
 */
public final class I8042 implements BusDevice, Snapshottable<I8042State> {
  static final int DATA = 0;
  static final int COMMAND = 4;
  static final int CMD_READ_CTR = 0x20;
  static final int CMD_WRITE_CTR = 0x60;
  static final int CMD_READ_OUTP = 0xd0;
  static final int CMD_WRITE_OUTP = 0xd1;
  static final int CMD_RESET_CPU = 0xfe;
  static final int SB_OUT_DATA_AVAIL = 0x01;
  static final int SB_SYS = 0x04;
  static final int SB_COMMAND = 0x08;
  static final int KBD_ACK = 0xfa;

  private final Runnable onReset;
  private final ArrayDeque<Integer> out = new ArrayDeque<>();
  private int ctr = 0x47;
  private int outp = 0x01;
  private int pendingCommand;
  private int status = SB_SYS;

  /** A controller that calls {@code onReset} when the guest pulses the reset line. */
  public I8042(Runnable onReset) {
    this.onReset = onReset;
  }

  @Override
  public synchronized I8042State saveState() {
    byte[] o = new byte[out.size()];
    int i = 0;
    for (int b : out) {
      o[i++] = (byte) b;
    }
    return new I8042State(ctr, outp, pendingCommand, status, o);
  }

  @Override
  public synchronized void restoreState(I8042State s) {
    ctr = s.ctr() & 0xff;
    outp = s.outp() & 0xff;
    pendingCommand = s.pendingCommand() & 0xff;
    status = s.status() & 0xff;
    out.clear();
    for (byte b : s.out()) {
      push(Byte.toUnsignedInt(b));
    }
  }

  @Override
  public synchronized void read(long offset, byte[] data) {
    Arrays.fill(data, (byte) 0);
    if (data.length != 1) {
      return;
    }
    if (offset == DATA) {
      Integer b = out.poll();
      data[0] = (byte) (b == null ? 0 : b);
    } else if (offset == COMMAND) {
      data[0] = (byte) (status | (out.isEmpty() ? 0 : SB_OUT_DATA_AVAIL));
    }
  }

  @Override
  public void write(long offset, byte[] data) {
    if (data.length != 1) {
      return;
    }
    int value = Byte.toUnsignedInt(data[0]);
    boolean reset = false;
    synchronized (this) {
      if (offset == COMMAND) {
        status |= SB_COMMAND;
        switch (value) {
          case CMD_READ_CTR -> push(ctr);
          case CMD_READ_OUTP -> push(outp);
          case CMD_WRITE_CTR, CMD_WRITE_OUTP -> pendingCommand = value;
          case CMD_RESET_CPU -> reset = true;
          default -> {}
        }
      } else if (offset == DATA) {
        status &= ~SB_COMMAND;
        switch (pendingCommand) {
          case CMD_WRITE_CTR -> ctr = value;
          case CMD_WRITE_OUTP -> outp = value;
          default -> push(KBD_ACK); // a keyboard command: acknowledge it
        }
        pendingCommand = 0;
      }
    }
    if (reset) {
      onReset.run();
    }
  }

  private void push(int b) {
    if (out.size() < 16) {
      out.add(b);
    }
  }
}
