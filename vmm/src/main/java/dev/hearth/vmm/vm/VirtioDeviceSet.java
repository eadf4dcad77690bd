package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.devices.DeviceLog;
import dev.hearth.vmm.devices.virtio.RequestQueueDevice;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.block.BlockConfig;
import dev.hearth.vmm.devices.virtio.block.VirtioBlock;
import dev.hearth.vmm.devices.virtio.mmio.MmioTransport;
import dev.hearth.vmm.devices.virtio.mmio.VirtioMmio;
import dev.hearth.vmm.devices.virtio.net.NetConfig;
import dev.hearth.vmm.devices.virtio.net.TapBackend;
import dev.hearth.vmm.devices.virtio.net.VirtioNet;
import dev.hearth.vmm.devices.virtio.rng.EntropySource;
import dev.hearth.vmm.devices.virtio.rng.VirtioRng;
import dev.hearth.vmm.devices.virtio.vsock.VirtioVsock;
import dev.hearth.vmm.devices.virtio.vsock.VsockConfig;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.sys.EventFd;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.seccomp.ThreadProfile;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A VM's virtio devices, built from its {@link VmDevices} and wired the way {@code
 * dev.hearth.vmm.devices.virtio} describes: each on a virtio-mmio transport in its own MMIO slot,
 * one ioeventfd per queue (datamatch on the queue index) handled by the event loop, an irqfd for
 * its interrupt, timerfd refill timers, the tap fd edge-triggered in the loop, and a host thread
 * for vsock. Closing releases all of it, in reverse order; the event loop must be stopped first.
 */
final class VirtioDeviceSet implements AutoCloseable {
  private final String vmName;
  private final VmFd vm;
  private final GuestMemory memory;
  private final EventLoop loop;
  private final MmioSlots slots;
  private final LoopTimers timers;
  private final Consumer<String> onLoopDeath;
  private final DeviceLog deviceLog;
  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private final Map<LimiterId, RateLimiter> limiters = new LinkedHashMap<>();
  private final Map<String, VirtioBlock> drives = new LinkedHashMap<>();
  private final List<Wired> wired = new ArrayList<>();

  /** A device on its transport, in the order they were built (and their MMIO slots). */
  private record Wired(String name, VirtioDevice device, MmioTransport transport) {}

  private VirtioDeviceSet(
      String vmName,
      VmFd vm,
      GuestMemory memory,
      EventLoop loop,
      MmioSlots slots,
      Consumer<String> onLoopDeath) {
    this.vmName = vmName;
    this.vm = vm;
    this.onLoopDeath = onLoopDeath;
    this.deviceLog = new DeviceLog(vmName);
    this.memory = memory;
    this.loop = loop;
    this.slots = slots;
    this.timers = own(new LoopTimers(loop));
  }

  /**
   * Builds every device in {@code devices} in order (drives, interfaces, vsock, rng). On failure
   * everything built so far is released and the exception names the device. A device thread that
   * dies (the vsock host loop) tells {@code onLoopDeath} why.
   */
  static VirtioDeviceSet attach(
      String vmName,
      VmDevices devices,
      VmFd vm,
      GuestMemory memory,
      EventLoop loop,
      MmioSlots slots,
      Consumer<String> onLoopDeath) {
    VirtioDeviceSet set = new VirtioDeviceSet(vmName, vm, memory, loop, slots, onLoopDeath);
    try {
      devices.drives().forEach(set::addDrive);
      devices.netInterfaces().forEach(set::addNet);
      devices.vsock().ifPresent(v -> set.addVsock(vmName, v));
      devices.rng().ifPresent(set::addRng);
      return set;
    } catch (RuntimeException | Error e) {
      set.closeQuietly(e);
      throw e;
    }
  }

  /** Every limiter's counters, by id. */
  Map<LimiterId, RateLimiter.Counters> limiterCounters() {
    Map<LimiterId, RateLimiter.Counters> all = new LinkedHashMap<>();
    limiters.forEach((id, l) -> all.put(id, l.counters()));
    return all;
  }

  /** Every drive's bytes read and written, by id. */
  Map<String, VmCounters.Drive> driveCounters() {
    Map<String, VmCounters.Drive> all = new LinkedHashMap<>();
    drives.forEach((id, b) -> all.put(id, new VmCounters.Drive(b.readBytes(), b.writeBytes())));
    return all;
  }

  /** Ids of the rate limiters: each drive's, each interface's rx and tx, the rng's. */
  Set<LimiterId> rateLimiterIds() {
    return limiters.keySet();
  }

  /**
   * The rate limiter with {@code id}.
   *
   * @throws VmException naming the VM's limiters if it has none with that id
   */
  RateLimiter rateLimiter(LimiterId id) {
    RateLimiter limiter = limiters.get(id);
    if (limiter == null) {
      throw new VmException(
          "VM "
              + vmName
              + " has no rate limiter '"
              + id
              + "' (it has "
              + new TreeSet<>(limiters.keySet())
              + ")");
    }
    return limiter;
  }

  private void addDrive(DriveConfig d) {
    VirtioBlock block;
    try {
      block =
          VirtioBlock.open(
              new BlockConfig(d.path(), d.readOnly(), d.serial(), d.rateLimit()),
              Clock.SYSTEM,
              timers);
    } catch (IOException e) {
      throw new VmException("drive '" + d.id() + "': cannot open " + d.path() + ": " + e, e);
    }
    own(block);
    limiters.put(LimiterId.of(d.id()), block.rateLimiter());
    drives.put(d.id(), block);
    wire("virtio-blk " + d.id(), block);
  }

  private void addNet(NetInterfaceConfig n) {
    TapBackend tap;
    try {
      tap = TapBackend.open(n.tapName());
    } catch (IOException e) {
      throw new VmException("net interface '" + n.id() + "': " + e.getMessage(), e);
    }
    VirtioNet net;
    try {
      net =
          new VirtioNet(
              tap,
              new NetConfig(n.tapName(), n.mac(), n.rxRateLimit(), n.txRateLimit()),
              Clock.SYSTEM,
              timers);
    } catch (RuntimeException e) {
      tap.close();
      throw e;
    }
    own(net); // closes the tap
    limiters.put(LimiterId.rx(n.id()), net.rxRateLimiter());
    limiters.put(LimiterId.tx(n.id()), net.txRateLimiter());
    wire("virtio-net " + n.id(), net);
    int fd = tap.fd();
    loop.register(fd, LibC.EPOLLIN | LibC.EPOLLET, events -> net.onBackendReadable());
    own(() -> loop.unregister(fd));
  }

  private void addVsock(String vmName, VsockDeviceConfig v) {
    VirtioVsock vsock;
    try {
      vsock = new VirtioVsock(new VsockConfig(v.guestCid(), v.udsPath()));
    } catch (IOException e) {
      throw new VmException("vsock: cannot bind " + v.udsPath() + ": " + e, e);
    }
    Thread thread =
        Thread.ofPlatform()
            .name("vsock-" + vmName)
            .daemon(true)
            .unstarted(
                () -> {
                  try {
                    loop.sandbox().enter(ThreadProfile.VSOCK_HOST);
                  } catch (RuntimeException e) {
                    onLoopDeath.accept("vsock host loop for " + vmName + " not sandboxed: " + e);
                    return;
                  }
                  vsock.runHostLoop(onLoopDeath);
                });
    own(
        () -> {
          vsock.close();
          // The loop never blocks under the device's lock, so it ends at once; should it not, the
          // VM's stop still completes.
          thread.join(java.time.Duration.ofSeconds(5));
          if (thread.isAlive()) {
            throw new VmException(thread.getName() + " did not end within 5 s of closing vsock");
          }
        });
    wire("virtio-vsock", vsock);
    thread.start();
  }

  private void addRng(RngConfig r) {
    VirtioRng rng =
        new VirtioRng(EntropySource.secureRandom(), r.rateLimit(), Clock.SYSTEM, timers);
    limiters.put(LimiterId.of(RngConfig.ID), rng.rateLimiter());
    wire("virtio-rng", rng);
  }

  /** Puts {@code device} on a transport in a new slot and gives each queue an ioeventfd. */
  private void wire(String name, VirtioDevice device) {
    MmioSlot slot = slots.allocate(name);
    MmioTransport transport = new MmioTransport(device, memory, slot.interrupt(), loop, deviceLog);
    slots.register(slot, transport, name);
    wired.add(new Wired(name, device, transport));
    long notify = slot.base() + VirtioMmio.QUEUE_NOTIFY_OFFSET;
    for (int q = 0; q < transport.queueCount(); q++) {
      int queue = q;
      EventFd efd = own(new EventFd());
      vm.registerIoeventfd(efd.fd(), notify, 4, OptionalLong.of(queue), false);
      own(() -> vm.unregisterIoeventfd(efd.fd(), notify, 4, OptionalLong.of(queue), false));
      loop.register(
          efd.fd(),
          LibC.EPOLLIN,
          events -> {
            efd.drain();
            transport.queueNotify(queue);
          });
      own(() -> loop.unregister(efd.fd()));
    }
  }

  /**
   * Every device's and transport's state, in build order. The caller holds every device's monitor
   * ({@link #monitors}), so none of them changes meanwhile.
   */
  List<VirtioDeviceState> saveState() {
    List<VirtioDeviceState> out = new ArrayList<>();
    for (Wired w : wired) {
      out.add(
          new VirtioDeviceState(
              w.name(),
              w.transport().saveState(),
              w.device() instanceof RequestQueueDevice r
                  ? Optional.of(r.saveState())
                  : Optional.empty(),
              w.device() instanceof VirtioNet n ? Optional.of(n.saveState()) : Optional.empty(),
              w.device() instanceof VirtioVsock v ? Optional.of(v.saveState()) : Optional.empty()));
    }
    return out;
  }

  /**
   * Sets each device's state, then its transport's (which activates a device that was running).
   *
   * @throws SnapshotException if the snapshot's devices are not this set's, name for name
   */
  void restoreState(List<VirtioDeviceState> states) {
    List<String> mine = wired.stream().map(Wired::name).toList();
    List<String> theirs = states.stream().map(VirtioDeviceState::name).toList();
    if (!mine.equals(theirs)) {
      throw new SnapshotException(
          "the snapshot's virtio devices " + theirs + " are not the config's " + mine);
    }
    for (int i = 0; i < wired.size(); i++) {
      Wired w = wired.get(i);
      VirtioDeviceState s = states.get(i);
      switch (w.device()) {
        case RequestQueueDevice r -> r.restoreState(required(s.requests(), s.name()));
        case VirtioNet n -> n.restoreState(required(s.net(), s.name()));
        case VirtioVsock v -> v.restoreState(required(s.vsock(), s.name()));
        default -> throw new SnapshotException("cannot restore device " + s.name());
      }
      w.transport().restoreState(s.transport());
    }
  }

  /** Tells every running device to look at its queues again (after a restore). */
  void notifyAllQueues() {
    for (Wired w : wired) {
      for (int q = 0; q < w.transport().queueCount(); q++) {
        w.transport().queueNotify(q);
      }
    }
  }

  /** The monitors that serialise each device's work; a snapshot holds them all. */
  List<Object> monitors() {
    return wired.stream().<Object>map(Wired::device).toList();
  }

  private static <T> T required(Optional<T> state, String device) {
    return state.orElseThrow(
        () -> new SnapshotException("the snapshot has no device state for " + device));
  }

  private <T extends AutoCloseable> T own(T resource) {
    closers.push(resource);
    return resource;
  }

  private void closeQuietly(Throwable cause) {
    try {
      close();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** Releases every device, fd, timer and thread in reverse order; rethrows the first failure. */
  @Override
  public void close() {
    RuntimeException first = null;
    while (!closers.isEmpty()) {
      try {
        closers.pop().close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        if (first == null) {
          first = new VmException("releasing a virtio device failed: " + e.getMessage(), e);
        }
      }
    }
    limiters.clear();
    if (first != null) {
      throw first;
    }
  }
}
