package dev.hearth.agent.cli;

import dev.hearth.agent.device.DevicePlugin;
import dev.hearth.agent.device.DevicePluginException;
import dev.hearth.agent.device.DeviceResource;
import dev.hearth.common.LogLevelOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hearth device-plugin}: the kubelet device plugin that hands {@code /dev/kvm} and {@code
 * /dev/net/tun} to the agent's pod as {@code hearth.dev/kvm} and {@code hearth.dev/tun}, so that
 * the agent runs without {@code privileged}. The chart runs it as a DaemonSet of its own, itself
 * unprivileged; options follow the agent's convention ({@code HEARTH_} environment variables).
 */
@Command(
    name = "device-plugin",
    mixinStandardHelpOptions = true,
    versionProvider = HearthVersion.class,
    description =
        "Serve /dev/kvm and /dev/net/tun to pods as the resources hearth.dev/kvm and"
            + " hearth.dev/tun (a kubelet device plugin).")
final class DevicePluginCommand implements Callable<Integer> {
  @Option(
      names = "--plugin-dir",
      defaultValue = "${env:HEARTH_PLUGIN_DIR:-/var/lib/kubelet/device-plugins}",
      description =
          "The kubelet's device-plugins folder (env HEARTH_PLUGIN_DIR; default ${DEFAULT-VALUE}).")
  Path pluginDir;

  @Option(
      names = "--dev-root",
      defaultValue = "${env:HEARTH_DEV_ROOT:-/dev}",
      description =
          "Where the node's /dev is seen, to tell whether a device exists (env HEARTH_DEV_ROOT;"
              + " default ${DEFAULT-VALUE}).")
  Path devRoot;

  @Option(
      names = "--devices-per-node",
      defaultValue = "${env:HEARTH_DEVICES_PER_NODE:-1}",
      description =
          "Pods per node that may hold each device at once; 1 keeps it to the agent's pod"
              + " (env HEARTH_DEVICES_PER_NODE; default ${DEFAULT-VALUE}).")
  int devicesPerNode;

  @Mixin LogLevelOption logging;

  @Override
  public Integer call() throws Exception {
    logging.apply();
    Logger log = LoggerFactory.getLogger(DevicePluginCommand.class);
    CountDownLatch stopped = new CountDownLatch(1);
    try (DevicePlugin plugin =
        new DevicePlugin(pluginDir, devRoot, DeviceResource.agentDevices(devicesPerNode))) {
      Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(stopped::countDown));
      do {
        try {
          plugin.check();
        } catch (DevicePluginException e) { // the kubelet restarting: try again next round
          log.warn("{}", e.getMessage());
        }
      } while (!stopped.await(5, TimeUnit.SECONDS));
    }
    return 0;
  }
}
