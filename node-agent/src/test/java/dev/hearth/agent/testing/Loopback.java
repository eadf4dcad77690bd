package dev.hearth.agent.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The API server, the image server and the agents' HTTP listen on loopback. Inside the nested-KVM
 * machine nothing brings {@code lo} up; elsewhere it is up already and this does nothing.
 */
public final class Loopback {
  private Loopback() {}

  /** Brings {@code lo} up if it is down; does nothing where it is up or absent. */
  public static void up() throws IOException, InterruptedException {
    Path flags = Path.of("/sys/class/net/lo/flags");
    if (!Files.exists(flags) || (Integer.decode(Files.readString(flags).strip()) & 1) != 0) {
      return;
    }
    for (List<String> cmd :
        List.of(
            List.of("ip", "link", "set", "lo", "up"),
            List.of("/usr/bin/busybox", "ip", "link", "set", "lo", "up"),
            List.of("/bin/busybox", "ifconfig", "lo", "up"))) {
      try {
        if (new ProcessBuilder(cmd).inheritIO().start().waitFor() == 0) {
          return;
        }
      } catch (IOException e) {
        // Not on this system; try the next way.
      }
    }
    throw new IOException("cannot bring the loopback interface up");
  }
}
