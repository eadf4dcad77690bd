package dev.hearth.agent.device;

import java.nio.file.Path;
import java.util.List;

/**
 * One device the plugin hands out as an extended resource.
 *
 * @param resourceName the extended resource a pod requests, e.g. {@code hearth.dev/kvm}
 * @param devicePath the device node on the node, and where the container gets it
 * @param socketName the plugin's socket in the kubelet's device-plugins folder
 * @param count how many pods on a node may hold it at once: 1 by default, so that the agent's pod
 *     holds the only one and no other pod on the node can be given the device
 */
public record DeviceResource(String resourceName, Path devicePath, String socketName, int count) {
  /** {@code /dev/kvm}: VMs. */
  public static final String KVM = "hearth.dev/kvm";

  /** {@code /dev/net/tun}: the VMs' taps. */
  public static final String TUN = "hearth.dev/tun";

  public DeviceResource {
    if (!resourceName.matches("[a-z0-9.-]+/[a-z0-9-]+")) {
      throw new IllegalArgumentException("resource name '" + resourceName + "' is not domain/name");
    }
    if (!devicePath.isAbsolute() || !devicePath.startsWith("/dev")) {
      throw new IllegalArgumentException("device " + devicePath + " is not under /dev");
    }
    if (count < 1 || count > 1000) {
      throw new IllegalArgumentException("device count " + count + " is not in 1..1000");
    }
  }

  /** The agent's two devices, {@code count} of each. */
  public static List<DeviceResource> agentDevices(int count) {
    return List.of(
        new DeviceResource(KVM, Path.of("/dev/kvm"), "hearth-kvm.sock", count),
        new DeviceResource(TUN, Path.of("/dev/net/tun"), "hearth-tun.sock", count));
  }

  /** Device IDs as the kubelet sees them: {@code kvm-0}, {@code kvm-1}, ... */
  public List<String> deviceIds() {
    String stem = devicePath.getFileName().toString();
    return java.util.stream.IntStream.range(0, count).mapToObj(i -> stem + "-" + i).toList();
  }
}
