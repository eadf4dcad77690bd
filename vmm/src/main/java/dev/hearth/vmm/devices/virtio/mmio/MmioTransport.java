package dev.hearth.vmm.devices.virtio.mmio;

import static dev.hearth.vmm.devices.virtio.mmio.MmioRegisters.*;

import dev.hearth.vmm.devices.DeviceLog;
import dev.hearth.vmm.devices.InterruptLine;
import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.DeviceStatus;
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
  private final long offeredFeatures;
  private final Virtqueue[] queues;
  private final Object lock;
  private final DeviceLog log;

  private int deviceFeaturesSel;
  private int driverFeaturesSel;
  private long driverFeatures;
  private int queueSel;
  private int status;
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
    this.offeredFeatures = device.deviceFeatures() | RING_FEATURES;
    this.queues =
        Arrays.stream(device.queueMaxSizes()).mapToObj(Virtqueue::new).toArray(Virtqueue[]::new);
  }

  public VirtioDevice device() {
    return device;
  }

  public int status() {
    synchronized (lock) {
      return status;
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
          deviceFeaturesSel,
          driverFeaturesSel,
          driverFeatures,
          queueSel,
          status,
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
      if ((s.driverFeatures() & ~offeredFeatures) != 0) {
        throw new SnapshotException(
            "virtio device " + device.deviceType() + " does not offer the snapshot's features");
      }
      reset();
      deviceFeaturesSel = s.deviceFeaturesSel();
      driverFeaturesSel = s.driverFeaturesSel();
      driverFeatures = s.driverFeatures();
      queueSel = s.queueSel();
      status = s.status();
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
            case DEVICE_FEATURES ->
                deviceFeaturesSel == 0
                    ? (int) offeredFeatures
                    : deviceFeaturesSel == 1 ? (int) (offeredFeatures >>> 32) : 0;
            case QUEUE_NUM_MAX -> selected() == null ? 0 : selected().maxSize();
            case QUEUE_READY -> selected() != null && selected().ready() ? 1 : 0;
            case INTERRUPT_STATUS -> interruptStatus;
            case STATUS -> status;
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
        if (off + data.length <= device.configSize() && (status & DeviceStatus.FAILED) == 0) {
          device.writeConfig((int) off, data);
        }
        return;
      }
      if (data.length != 4 || offset % 4 != 0) {
        return;
      }
      int v = getInt(data);
      switch ((int) offset) {
        case DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
        case DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
        case DRIVER_FEATURES -> writeDriverFeatures(v);
        case QUEUE_SEL -> queueSel = v;
        case QUEUE_NUM -> withQueueConfig(q -> q.setSize(v));
        case QUEUE_READY -> withQueueConfig(q -> q.setReady(v == 1));
        case QUEUE_DESC_LOW -> withQueueConfig(q -> q.setDescTable(low(q.descTable(), v)));
        case QUEUE_DESC_HIGH -> withQueueConfig(q -> q.setDescTable(high(q.descTable(), v)));
        case QUEUE_DRIVER_LOW -> withQueueConfig(q -> q.setAvailRing(low(q.availRing(), v)));
        case QUEUE_DRIVER_HIGH -> withQueueConfig(q -> q.setAvailRing(high(q.availRing(), v)));
        case QUEUE_DEVICE_LOW -> withQueueConfig(q -> q.setUsedRing(low(q.usedRing(), v)));
        case QUEUE_DEVICE_HIGH -> withQueueConfig(q -> q.setUsedRing(high(q.usedRing(), v)));
        case QUEUE_NOTIFY -> {
          if (context != null && v >= 0 && v < queues.length) {
            notifyExecutor.execute(() -> queueNotify(v));
          }
        }
        case INTERRUPT_ACK -> interruptStatus &= ~v;
        case STATUS -> writeStatus(v);
        default -> {}
      }
    }
  }

  private void writeDriverFeatures(int v) {
    // Features may change only between DRIVER and FEATURES_OK.
    if (status != (DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER)) {
      return;
    }
    if (driverFeaturesSel == 0) {
      driverFeatures = (driverFeatures & 0xffffffff00000000L) | (v & 0xffffffffL);
    } else if (driverFeaturesSel == 1) {
      driverFeatures = (driverFeatures & 0xffffffffL) | ((long) v << 32);
    }
  }

  private void withQueueConfig(java.util.function.Consumer<Virtqueue> change) {
    Virtqueue q = selected();
    // Queues are configured after FEATURES_OK and before DRIVER_OK.
    int configuring = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
    if (q != null && status == configuring) {
      change.accept(q);
    }
  }

  private void writeStatus(int v) {
    if (v == 0) {
      reset();
      return;
    }
    if ((v & DeviceStatus.FAILED) != 0) {
      status |= DeviceStatus.FAILED;
      return;
    }
    int added = v & ~status;
    if ((v & status) != status || Integer.bitCount(added) != 1) {
      log.log(LOG, System.Logger.Level.DEBUG, "ignoring status write {0} over {1}", v, status);
      return;
    }
    switch (added) {
      case DeviceStatus.ACKNOWLEDGE -> status = v;
      case DeviceStatus.DRIVER -> {
        if (status == DeviceStatus.ACKNOWLEDGE) {
          status = v;
        }
      }
      case DeviceStatus.FEATURES_OK -> {
        boolean subset = (driverFeatures & ~offeredFeatures) == 0;
        boolean modern = VirtioFeatures.has(driverFeatures, VirtioFeatures.VERSION_1);
        if (status == (DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER) && subset && modern) {
          status = v;
        }
      }
      case DeviceStatus.DRIVER_OK -> {
        if (status == (DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK)) {
          status = v;
          activate();
        }
      }
      default -> {}
    }
  }

  private void activate() {
    context = new Context();
    boolean eventIdx = VirtioFeatures.has(driverFeatures, VirtioFeatures.RING_EVENT_IDX);
    boolean indirect = VirtioFeatures.has(driverFeatures, VirtioFeatures.RING_INDIRECT_DESC);
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
    status = 0;
    driverFeatures = 0;
    deviceFeaturesSel = 0;
    driverFeaturesSel = 0;
    queueSel = 0;
    interruptStatus = 0;
  }

  private Virtqueue selected() {
    return queueSel >= 0 && queueSel < queues.length ? queues[queueSel] : null;
  }

  private void raise(int bit) {
    interruptStatus |= bit;
    interrupt.trigger();
  }

  private static long low(long old, int v) {
    return (old & 0xffffffff00000000L) | (v & 0xffffffffL);
  }

  private static long high(long old, int v) {
    return (old & 0xffffffffL) | ((long) v << 32);
  }

  private static int getInt(byte[] d) {
    return (d[0] & 0xff) | (d[1] & 0xff) << 8 | (d[2] & 0xff) << 16 | (d[3] & 0xff) << 24;
  }

  private static void putInt(byte[] d, int v) {
    d[0] = (byte) v;
    d[1] = (byte) (v >>> 8);
    d[2] = (byte) (v >>> 16);
    d[3] = (byte) (v >>> 24);
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
      return driverFeatures;
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
        status |= DeviceStatus.DEVICE_NEEDS_RESET;
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
