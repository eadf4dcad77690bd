package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.devices.DeviceLog;
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
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.sys.EventFd;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.seccomp.ThreadProfile;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A VM's virtio devices, built from its {@link VmDevices} and wired the way {@code
 * dev.hearth.vmm.devices.virtio} describes: each on a virtio-mmio transport in its own MMIO slot,
 * one ioeventfd per queue (datamatch on the queue index) handled by the event loop, an irqfd for
 * its interrupt, timerfd refill timers, the tap fd edge-triggered in the loop, and a host thread
 * for vsock. Closing releases all of it, in reverse order; the event loop must be stopped first.
 */
final class VirtioDeviceSet implements AutoCloseable {
  /** Adds an MMIO device (slot, GSI, irqfd, command line); {@link VmParts#addVirtioMmio}. */
  @FunctionalInterface
  interface SlotAllocator {
    MmioSlot add(String name, Function<MmioSlot, MmioTransport> factory);
  }

  private final VmFd vm;
  private final GuestMemory memory;
  private final EventLoop loop;
  private final SlotAllocator slots;
  private final LoopTimers timers;
  private final Consumer<String> onLoopDeath;
  private final DeviceLog deviceLog;
  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private final Map<String, RateLimiter> limiters = new LinkedHashMap<>();
  private final Map<String, VirtioBlock> drives = new LinkedHashMap<>();

  private VirtioDeviceSet(
      String vmName,
      VmFd vm,
      GuestMemory memory,
      EventLoop loop,
      SlotAllocator slots,
      Consumer<String> onLoopDeath) {
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
      SlotAllocator slots,
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

  /** Ids of the rate limiters: drive ids, {@code <interface>.rx}, {@code <interface>.tx}, rng. */
  /** Every limiter's counters, by id. */
  Map<String, RateLimiter.Counters> limiterCounters() {
    Map<String, RateLimiter.Counters> all = new LinkedHashMap<>();
    limiters.forEach((id, l) -> all.put(id, l.counters()));
    return all;
  }

  /** Every drive's bytes read and written, by id. */
  Map<String, VmCounters.Drive> driveCounters() {
    Map<String, VmCounters.Drive> all = new LinkedHashMap<>();
    drives.forEach((id, b) -> all.put(id, new VmCounters.Drive(b.readBytes(), b.writeBytes())));
    return all;
  }

  Set<String> rateLimiterIds() {
    return limiters.keySet();
  }

  /** The rate limiter with {@code id}, or null. */
  RateLimiter rateLimiter(String id) {
    return limiters.get(id);
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
    limiters.put(d.id(), block.rateLimiter());
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
    limiters.put(n.id() + ".rx", net.rxRateLimiter());
    limiters.put(n.id() + ".tx", net.txRateLimiter());
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
    limiters.put(RngConfig.ID, rng.rateLimiter());
    wire("virtio-rng", rng);
  }

  /** Puts {@code device} on a transport in a new slot and gives each queue an ioeventfd. */
  private void wire(String name, VirtioDevice device) {
    MmioTransport[] transport = new MmioTransport[1];
    MmioSlot slot =
        slots.add(
            name,
            s -> transport[0] = new MmioTransport(device, memory, s.interrupt(), loop, deviceLog));
    long notify = slot.base() + VirtioMmio.QUEUE_NOTIFY_OFFSET;
    for (int q = 0; q < transport[0].queueCount(); q++) {
      int queue = q;
      EventFd efd = own(new EventFd());
      vm.registerIoeventfd(efd.fd(), notify, 4, OptionalLong.of(queue), false);
      own(() -> vm.unregisterIoeventfd(efd.fd(), notify, 4, OptionalLong.of(queue), false));
      loop.register(
          efd.fd(),
          LibC.EPOLLIN,
          events -> {
            efd.drain();
            transport[0].queueNotify(queue);
          });
      own(() -> loop.unregister(efd.fd()));
    }
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
