package dev.hearth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.testing.RequiresRoot;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Taps made with the TUN ioctls, inside a network namespace of the test's own. */
@RequiresRoot
class TunTapFactoryTest {
  private final String netns = "hth-test-" + UUID.randomUUID().toString().substring(0, 8);
  private final CommandRunner host = HostCommands.host();
  private final CommandRunner ns = HostCommands.inNamespace(netns);

  @BeforeAll
  static void tools() throws Exception {
    HostTools.ensureInstalled();
  }

  @BeforeEach
  void createNamespace() {
    host.run("ip", "netns", "add", netns);
  }

  @AfterEach
  void deleteNamespace() {
    host.run("ip", "netns", "del", netns);
  }

  @Test
  void createsAPersistentVnetHdrTapInTheNamespaceOnlyAndDeletesIt() {
    TapFactory taps = TunTapFactory.inNamespace(netns);
    taps.create("hthtest000001");
    assertThat(ns.run("ip", "-d", "link", "show", "dev", "hthtest000001"))
        .contains("tun type tap pi off vnet_hdr on", "persist on");
    assertThatThrownBy(() -> host.run("ip", "link", "show", "dev", "hthtest000001"))
        .hasMessageContaining("does not exist"); // nothing on the host
    taps.delete("hthtest000001");
    assertThat(ns.run("ip", "-br", "link", "show")).doesNotContain("hthtest000001");
    taps.delete("hthtest000001"); // deleting a missing tap is a no-op
  }

  @Test
  void badNamesAreRefused() {
    assertThatThrownBy(() -> TunTapFactory.inNamespace(netns).create("a-name-longer-than-15"))
        .hasMessageContaining("1 to 15 characters");
  }
}
