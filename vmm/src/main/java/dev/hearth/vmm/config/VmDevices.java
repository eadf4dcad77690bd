package dev.hearth.vmm.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The virtio devices of a VM. Each takes one virtio-mmio slot and one interrupt, so there are at
 * most {@value #MAX_DEVICES} in all. Ids are unique across drives and interfaces, and {@value
 * RngConfig#ID} is the rng's own; tap names, MAC addresses and drive paths are unique too.
 *
 * @param drives virtio-blk drives, in the order the guest sees them
 * @param netInterfaces virtio-net interfaces, in the order the guest sees them
 * @param vsock a vsock device, if any
 * @param rng an entropy device, if any
 */
public record VmDevices(
    List<DriveConfig> drives,
    List<NetInterfaceConfig> netInterfaces,
    Optional<VsockDeviceConfig> vsock,
    Optional<RngConfig> rng) {
  /** Virtio-mmio slots with an interrupt of their own (GSIs 5 to 23). */
  public static final int MAX_DEVICES = 19;

  /** No devices. */
  public static final VmDevices NONE =
      new VmDevices(List.of(), List.of(), Optional.empty(), Optional.empty());

  public VmDevices {
    drives = List.copyOf(Objects.requireNonNull(drives, "drives"));
    netInterfaces = List.copyOf(Objects.requireNonNull(netInterfaces, "netInterfaces"));
    Objects.requireNonNull(vsock, "vsock");
    Objects.requireNonNull(rng, "rng");
    int count =
        drives.size()
            + netInterfaces.size()
            + (vsock.isPresent() ? 1 : 0)
            + (rng.isPresent() ? 1 : 0);
    if (count > MAX_DEVICES) {
      throw new ConfigException(
          "devices", count + " devices are more than the " + MAX_DEVICES + " virtio-mmio slots");
    }
    Set<Object> ids = new HashSet<>();
    Set<Object> paths = new HashSet<>();
    for (DriveConfig d : drives) {
      unique(ids, d.id(), "drives[" + d.id() + "].id", "device id");
      unique(
          paths,
          d.path().toAbsolutePath().normalize(),
          "drives[" + d.id() + "].path",
          "drive path");
    }
    Set<Object> taps = new HashSet<>();
    Set<Object> macs = new HashSet<>();
    for (NetInterfaceConfig n : netInterfaces) {
      String field = "netInterfaces[" + n.id() + "]";
      unique(ids, n.id(), field + ".id", "device id");
      unique(taps, n.tapName(), field + ".tapName", "tap");
      unique(macs, n.mac(), field + ".mac", "MAC address");
    }
    if (ids.contains(RngConfig.ID)) {
      throw new ConfigException(
          "devices", "'" + RngConfig.ID + "' is the rng's id; name the device otherwise");
    }
  }

  /** These devices plus {@code drive}. */
  public VmDevices withDrive(DriveConfig drive) {
    List<DriveConfig> all = new ArrayList<>(drives);
    all.add(drive);
    return new VmDevices(all, netInterfaces, vsock, rng);
  }

  /** These devices plus {@code nic}. */
  public VmDevices withNetInterface(NetInterfaceConfig nic) {
    List<NetInterfaceConfig> all = new ArrayList<>(netInterfaces);
    all.add(nic);
    return new VmDevices(drives, all, vsock, rng);
  }

  /** These devices with {@code device} as the vsock. */
  public VmDevices withVsock(VsockDeviceConfig device) {
    return new VmDevices(drives, netInterfaces, Optional.of(device), rng);
  }

  /** These devices with {@code device} as the rng. */
  public VmDevices withRng(RngConfig device) {
    return new VmDevices(drives, netInterfaces, vsock, Optional.of(device));
  }

  /** How many devices (and so MMIO slots) there are. */
  public int count() {
    return drives.size()
        + netInterfaces.size()
        + (vsock.isPresent() ? 1 : 0)
        + (rng.isPresent() ? 1 : 0);
  }

  private static void unique(Set<Object> seen, Object value, String field, String what) {
    if (!seen.add(value)) {
      throw new ConfigException(field, what + " " + value + " is used twice");
    }
  }
}
