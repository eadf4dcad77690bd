package dev.hearth.vmm.devices.legacy;

import dev.hearth.vmm.devices.InterruptLine;
import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.util.ArrayDeque;

/**
 * A 16550A UART as Linux's 8250 driver drives it: transmit goes to a {@link ConsoleOutput} at once
 * (the transmitter is always empty), receive comes from {@link #enqueueInput} through a 64-byte
 * FIFO, and the "transmitter empty" and "data ready" interrupts are raised on the line the VM wires
 * to the UART's IRQ. Loopback mode reflects the modem-control bits, which the driver's probe
 * checks.
 */
public final class Serial16550 implements BusDevice, Snapshottable<SerialState> {
  static final int DATA = 0;
  static final int IER = 1;
  static final int IIR = 2;
  static final int LCR = 3;
  static final int MCR = 4;
  static final int LSR = 5;
  static final int MSR = 6;
  static final int SCR = 7;

  static final int IER_RDA = 0x01;
  static final int IER_THRE = 0x02;
  static final int IIR_NONE = 0x01;
  static final int IIR_THRE = 0x02;
  static final int IIR_RDA = 0x04;
  static final int IIR_FIFO = 0xc0;
  static final int LCR_DLAB = 0x80;
  static final int LSR_DATA_READY = 0x01;
  static final int LSR_THR_EMPTY = 0x20;
  static final int LSR_IDLE = 0x40;
  static final int MCR_LOOP = 0x10;
  static final int MSR_DEFAULT = 0xb0; // DCD, DSR, CTS

  /** Receive FIFO depth. */
  public static final int FIFO_SIZE = 64;

  private final ConsoleOutput output;
  private final InterruptLine interrupt;
  private final ArrayDeque<Byte> input = new ArrayDeque<>();
  private int ier;
  private int lcr = 0x03;
  private int mcr = 0x08;
  private int scr;
  private int dll = 0x0c;
  private int dlm;
  private boolean thrEmptyPending;

  public Serial16550(ConsoleOutput output, InterruptLine interrupt) {
    this.output = output;
    this.interrupt = interrupt;
  }

  /**
   * Queues bytes for the guest to read; returns how many fit in the FIFO. Raises "data ready" if
   * the guest enabled it.
   */
  public synchronized int enqueueInput(byte[] bytes) {
    int n = 0;
    while (n < bytes.length && input.size() < FIFO_SIZE) {
      input.add(bytes[n++]);
    }
    if (n > 0 && (ier & IER_RDA) != 0) {
      interrupt.trigger();
    }
    return n;
  }

  /** How many more bytes {@link #enqueueInput} would take now. */
  public synchronized int inputSpace() {
    return FIFO_SIZE - input.size();
  }

  @Override
  public synchronized SerialState saveState() {
    byte[] in = new byte[input.size()];
    int i = 0;
    for (Byte b : input) {
      in[i++] = b;
    }
    return new SerialState(ier, lcr, mcr, scr, dll, dlm, thrEmptyPending, in);
  }

  @Override
  public synchronized void restoreState(SerialState s) {
    if (s.input().length > FIFO_SIZE) {
      throw new SnapshotException(
          "serial input of " + s.input().length + " bytes overflows the FIFO");
    }
    ier = s.ier() & 0x0f;
    lcr = s.lcr() & 0xff;
    mcr = s.mcr() & 0x1f;
    scr = s.scr() & 0xff;
    dll = s.dll() & 0xff;
    dlm = s.dlm() & 0xff;
    thrEmptyPending = s.thrEmptyPending();
    input.clear();
    for (byte b : s.input()) {
      input.add(b);
    }
  }

  @Override
  public void read(long offset, byte[] data) {
    java.util.Arrays.fill(data, (byte) 0xff);
    if (data.length != 1 || offset < 0 || offset > SCR) {
      return;
    }
    data[0] = (byte) readRegister((int) offset);
  }

  @Override
  public void write(long offset, byte[] data) {
    if (data.length != 1 || offset < 0 || offset > SCR) {
      return;
    }
    writeRegister((int) offset, Byte.toUnsignedInt(data[0]));
  }

  private synchronized int readRegister(int reg) {
    boolean dlab = (lcr & LCR_DLAB) != 0;
    return switch (reg) {
      case DATA -> {
        if (dlab) {
          yield dll;
        }
        Byte b = input.poll();
        yield b == null ? 0 : Byte.toUnsignedInt(b);
      }
      case IER -> dlab ? dlm : ier;
      case IIR -> {
        int iir;
        if ((ier & IER_RDA) != 0 && !input.isEmpty()) {
          iir = IIR_RDA;
        } else if (thrEmptyPending) {
          iir = IIR_THRE;
          thrEmptyPending = false; // reading IIR acknowledges THRE
        } else {
          iir = IIR_NONE;
        }
        yield iir | IIR_FIFO;
      }
      case LCR -> lcr;
      case MCR -> mcr;
      case LSR -> LSR_THR_EMPTY | LSR_IDLE | (input.isEmpty() ? 0 : LSR_DATA_READY);
      case MSR -> loop() ? loopbackMsr() : MSR_DEFAULT;
      case SCR -> scr;
      default -> 0xff;
    };
  }

  private void writeRegister(int reg, int value) {
    boolean fire = false;
    synchronized (this) {
      boolean dlab = (lcr & LCR_DLAB) != 0;
      switch (reg) {
        case DATA -> {
          if (dlab) {
            dll = value;
          } else {
            if (loop()) {
              if (input.size() < FIFO_SIZE) {
                input.add((byte) value);
              }
              fire = (ier & IER_RDA) != 0;
            } else {
              output.write((byte) value);
            }
            if ((ier & IER_THRE) != 0) {
              thrEmptyPending = true;
              fire = true;
            }
          }
        }
        case IER -> {
          if (dlab) {
            dlm = value;
          } else {
            int old = ier;
            ier = value & 0x0f;
            // The transmitter is always empty: enabling its interrupt raises it at once.
            if ((ier & IER_THRE) != 0 && (old & IER_THRE) == 0) {
              thrEmptyPending = true;
              fire = true;
            }
            if ((ier & IER_RDA) != 0 && !input.isEmpty()) {
              fire = true;
            }
          }
        }
        case LCR -> lcr = value;
        case MCR -> mcr = value & 0x1f;
        case SCR -> scr = value;
        default -> {} // FCR and read-only registers
      }
    }
    if (fire) {
      interrupt.trigger();
    }
  }

  private boolean loop() {
    return (mcr & MCR_LOOP) != 0;
  }

  /** In loopback, DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
  private int loopbackMsr() {
    int msr = 0;
    if ((mcr & 0x01) != 0) {
      msr |= 0x20;
    }
    if ((mcr & 0x02) != 0) {
      msr |= 0x10;
    }
    if ((mcr & 0x04) != 0) {
      msr |= 0x40;
    }
    if ((mcr & 0x08) != 0) {
      msr |= 0x80;
    }
    return msr;
  }
}
