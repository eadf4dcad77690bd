package dev.hearth.vmm.devices.virtio.mmio;

import static dev.hearth.vmm.devices.virtio.mmio.MmioRegisters.*;

import dev.hearth.vmm.devices.DeviceLog;
import dev.hearth.vmm.devices.InterruptLine;
import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.VirtioFeatures;
import dev.hearth.vmm.devices.virtio.queue.QueueBrokenException;
import dev.hearth.vmm.devices.virtio.queue.Virtqueue;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The virtio-mmio version 2 transport for one device, as a {@link BusDevice} on the MMIO bus.
 *
 * <p>It negotiates features (VIRTIO_F_VERSION_1 is required), runs the device-status state machine
 * (an out-of-order status write is ignored; FEATURES_OK is refused for features not offered; 0
 * resets), holds the queue registers, and activates the device at DRIVER_OK. Interrupts go out on
 * one {@link InterruptLine} (an irqfd), with InterruptStatus saying why.
 *
 * <p>Threads: vCPU threads call {@link #read}/{@link #write}; the VM's event loop calls {@link
 * #queueNotify} when a queue's ioeventfd fires. A QueueNotify write that reaches the bus (no
 * ioeventfd) is handed to {@code notifyExecutor}. All of it is serialised on the device object's
 * monitor, which the device also holds for work from its own sources (refill timers, backend
 * readiness), so there is one lock and no lock-order inversion.
 */
public final class MmioTransport implements BusDevice, Snapshottable<MmioTransportState> {
  private static final System.Logger LOG = System.getLogger(MmioTransport.class.getName());
  private static final long RING_FEATURES =
      VirtioFeatures.bit(VirtioFeatures.VERSION_1)
          | VirtioFeatures.bit(VirtioFeatures.RING_INDIRECT_DESC)
          | VirtioFeatures.bit(VirtioFeatures.RING_EVENT_IDX);
  private static final int VENDOR = 0x48525448; // "HTRH"

  private final VirtioDevice device;
  private final GuestMemory memory;
  private final InterruptLine interrupt;
  private final Executor notifyExecutor;
  private final DriverNegotiation negotiation;
  private final Virtqueue[] queues;
  private final Object lock;
  private final DeviceLog log;

  private final QueueSelector queueSelector;
  private int interruptStatus;
  private int configGeneration;
  private Context context;

  /**
   * A transport whose bus-side QueueNotify writes are processed on the writing thread, with a
   * device log of its own.
   */
  public MmioTransport(VirtioDevice device, GuestMemory memory, InterruptLine interrupt) {
    this(device, memory, interrupt, Runnable::run, new DeviceLog("a VM"));
  }

  /**
   * @param notifyExecutor runs the device's processing for QueueNotify writes that reach the bus
   *     (the VM passes its event loop, so devices only ever run there)
   * @param log the VM's device log, shared by all its devices, where the transport and the device
   *     log what the guest makes happen
   */
  public MmioTransport(
      VirtioDevice device,
      GuestMemory memory,
      InterruptLine interrupt,
      Executor notifyExecutor,
      DeviceLog log) {
    this.device = Objects.requireNonNull(device, "device");
    this.log = Objects.requireNonNull(log, "log");
    this.lock = device;
    this.memory = Objects.requireNonNull(memory, "memory");
    this.interrupt = Objects.requireNonNull(interrupt, "interrupt");
    this.notifyExecutor = Objects.requireNonNull(notifyExecutor, "notifyExecutor");
    this.negotiation = new DriverNegotiation(device.deviceFeatures() | RING_FEATURES);
    this.queues =
        Arrays.stream(device.queueMaxSizes()).mapToObj(Virtqueue::new).toArray(Virtqueue[]::new);
    this.queueSelector = new QueueSelector(queues);
  }

  public VirtioDevice device() {
    return device;
  }

  public int status() {
    synchronized (lock) {
      return negotiation.status();
    }
  }

  public int interruptStatus() {
    synchronized (lock) {
      return interruptStatus;
    }
  }

  /** Number of queues (the ioeventfds the VM registers, datamatch 0..n-1). */
  public int queueCount() {
    return queues.length;
  }

  @Override
  public MmioTransportState saveState() {
    synchronized (lock) {
      return new MmioTransportState(
          negotiation.deviceFeaturesSel(),
          negotiation.driverFeaturesSel(),
          negotiation.driverFeatures(),
          queueSelector.sel(),
          negotiation.status(),
          interruptStatus,
          configGeneration,
          context != null,
          context != null && context.broken,
          Arrays.stream(queues).map(Virtqueue::saveState).toList());
    }
  }

  /**
   * Takes back the registers and queues and, if the device was running, activates it again with its
   * queues where they were. The device's own state must have been restored first.
   */
  @Override
  public void restoreState(MmioTransportState s) {
    synchronized (lock) {
      if (s.queues().size() != queues.length) {
        throw new SnapshotException(
            "virtio device "
                + device.deviceType()
                + " has "
                + queues.length
                + " queues; the snapshot has "
                + s.queues().size());
      }
      if ((s.driverFeatures() & ~negotiation.offered()) != 0) {
        throw new SnapshotException(
            "virtio device " + device.deviceType() + " does not offer the snapshot's features");
      }
      reset();
      negotiation.restore(
          s.deviceFeaturesSel(), s.driverFeaturesSel(), s.driverFeatures(), s.status());
      queueSelector.select(s.queueSel());
      interruptStatus = s.interruptStatus();
      configGeneration = s.configGeneration();
      for (int i = 0; i < queues.length; i++) {
        queues[i].restoreState(s.queues().get(i));
      }
      if (!s.activated()) {
        return;
      }
      context = new Context();
      for (int i = 0; i < queues.length; i++) {
        if (!s.queues().get(i).active()) {
          continue;
        }
        try {
          queues[i].resume(memory);
        } catch (QueueBrokenException e) {
          context.markBroken("restored queue " + i + ": " + e.getMessage());
          return;
        }
      }
      if (s.broken()) {
        context.broken = true;
        return;
      }
      try {
        device.activate(context);
      } catch (RuntimeException e) {
        context.markBroken("device failed to activate after restore: " + e);
      }
    }
  }

  /** The event loop saw queue {@code index} notified. Ignored unless the device is running. */
  public void queueNotify(int index) {
    synchronized (lock) {
      if (context == null || context.broken || index < 0 || index >= queues.length) {
        return;
      }
      try {
        device.queueNotified(index);
      } catch (RuntimeException e) {
        // A device bug must not take the event loop down; the device is unusable until reset.
        context.markBroken("device failed processing queue " + index + ": " + e);
      }
    }
  }

  @Override
  public void read(long offset, byte[] data) {
    synchronized (lock) {
      if (offset >= CONFIG) {
        long off = offset - CONFIG;
        if (off + data.length <= device.configSize()) {
          device.readConfig((int) off, data);
        } else {
          Arrays.fill(data, (byte) 0xff);
        }
        return;
      }
      if (data.length != 4 || offset % 4 != 0) {
        Arrays.fill(data, (byte) 0xff);
        return;
      }
      int v =
          switch ((int) offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION -> 2;
            case DEVICE_ID -> device.deviceType();
            case VENDOR_ID -> VENDOR;
            case DEVICE_FEATURES -> negotiation.deviceFeaturesWord();
            case QUEUE_NUM_MAX, QUEUE_READY -> queueSelector.read((int) offset);
            case INTERRUPT_STATUS -> interruptStatus;
            case STATUS -> negotiation.status();
            case CONFIG_GENERATION -> configGeneration;
            default -> -1;
          };
      putInt(data, v);
    }
  }

  @Override
  public void write(long offset, byte[] data) {
    synchronized (lock) {
      if (offset >= CONFIG) {
        long off = offset - CONFIG;
        if (off + data.length <= device.configSize() && !negotiation.failed()) {
          device.writeConfig((int) off, data);
        }
        return;
      }
      if (data.length != 4 || offset % 4 != 0) {
        return;
      }
      int v = getInt(data);
      switch ((int) offset) {
        case DEVICE_FEATURES_SEL -> negotiation.selectDeviceFeatures(v);
        case DRIVER_FEATURES_SEL -> negotiation.selectDriverFeatures(v);
        case DRIVER_FEATURES -> negotiation.writeDriverFeatures(v);
        case QUEUE_SEL -> queueSelector.select(v);
        case QUEUE_NOTIFY -> {
          if (context != null && v >= 0 && v < queues.length) {
            notifyExecutor.execute(() -> queueNotify(v));
          }
        }
        case INTERRUPT_ACK -> interruptStatus &= ~v;
        case STATUS -> writeStatus(v);
        default -> {
          // Queues are configured after FEATURES_OK and before DRIVER_OK.
          if (negotiation.configuringQueues()) {
            queueSelector.configure((int) offset, v);
          }
        }
      }
    }
  }

  private void writeStatus(int v) {
    switch (negotiation.writeStatus(v)) {
      case RESET -> reset();
      case ACTIVATE -> activate();
      case IGNORED ->
          log.log(
              LOG,
              System.Logger.Level.DEBUG,
              "ignoring status write {0} over {1}",
              v,
              negotiation.status());
      case NONE -> {}
    }
  }

  private void activate() {
    context = new Context();
    long features = negotiation.driverFeatures();
    boolean eventIdx = VirtioFeatures.has(features, VirtioFeatures.RING_EVENT_IDX);
    boolean indirect = VirtioFeatures.has(features, VirtioFeatures.RING_INDIRECT_DESC);
    for (int i = 0; i < queues.length; i++) {
      if (!queues[i].ready()) {
        continue;
      }
      try {
        queues[i].activate(memory, eventIdx, indirect);
      } catch (QueueBrokenException e) {
        context.markBroken("queue " + i + ": " + e.getMessage());
        return;
      }
    }
    try {
      device.activate(context);
    } catch (RuntimeException e) {
      context.markBroken("device failed to activate: " + e);
    }
  }

  private void reset() {
    if (context != null) {
      device.reset();
      context = null;
    }
    for (Virtqueue q : queues) {
      q.reset();
    }
    negotiation.reset();
    queueSelector.select(0);
    interruptStatus = 0;
  }

  private void raise(int bit) {
    interruptStatus |= bit;
    interrupt.trigger();
  }

  /** The context of one activation; stale once the device is reset. */
  private final class Context implements DeviceContext {
    private boolean broken;

    @Override
    public GuestMemory memory() {
      return memory;
    }

    @Override
    public Virtqueue queue(int index) {
      return queues[index];
    }

    @Override
    public long features() {
      return negotiation.driverFeatures();
    }

    @Override
    public void signalUsed(int queue) {
      synchronized (lock) {
        if (context != this || broken) {
          return;
        }
        try {
          if (queues[queue].needsNotification()) {
            raise(INT_USED_BUFFER);
          }
        } catch (QueueBrokenException e) {
          markBroken("queue " + queue + ": " + e.getMessage());
        }
      }
    }

    @Override
    public void signalConfigChange() {
      synchronized (lock) {
        if (context != this) {
          return;
        }
        configGeneration++;
        raise(INT_CONFIG_CHANGE);
      }
    }

    @Override
    public void markBroken(String reason) {
      synchronized (lock) {
        if (context != this || broken) {
          return;
        }
        broken = true;
        log.log(
            LOG,
            System.Logger.Level.WARNING,
            "virtio device {0} needs reset: {1}",
            device.deviceType(),
            reason);
        negotiation.markNeedsReset();
        raise(INT_CONFIG_CHANGE);
      }
    }

    @Override
    public DeviceLog log() {
      return log;
    }

    @Override
    public boolean broken() {
      synchronized (lock) {
        return broken;
      }
    }
  }
}
