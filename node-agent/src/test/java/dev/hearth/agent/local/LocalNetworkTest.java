package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.HostTools;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.agent.net.NetworkNames;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.net.TapFactory;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.vmm.testing.RequiresRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hearth run's network on real bridges, taps and nftables, inside a network namespace of the test's
 * own: what a run makes, that two runs do not share anything, that a killed run's leftovers go, and
 * that nothing of the host's or a node agent's is touched.
 */
@RequiresRoot
class LocalNetworkTest {
  private static final List<VmPlan.NicPlan> ETH0 =
      List.of(new VmPlan.NicPlan("eth0", Optional.empty()));

  @TempDir Path state;
  private final String netns = "hrn-test-" + UUID.randomUUID().toString().substring(0, 8);
  private final CommandRunner host = HostCommands.host();
  private CommandRunner ns;
  private TapFactory taps;

  @BeforeAll
  static void tools() throws Exception {
    HostTools.ensureInstalled();
  }

  @BeforeEach
  void createNamespace() {
    host.run("ip", "netns", "add", netns);
    ns = HostCommands.inNamespace(netns);
    taps = TunTapFactory.inNamespace(netns);
  }

  @AfterEach
  void deleteNamespace() {
    host.run("ip", "netns", "del", netns);
  }

  private LocalNetwork open(Optional<String> bridge, Optional<Cidr> subnet) throws Exception {
    return LocalNetwork.open(new LocalNetwork.Settings(bridge, subnet, state), ns, taps);
  }

  private String links() {
    return ns.run("ip", "-br", "link", "show");
  }

  private String tables() {
    return ns.run("nft", "list", "tables");
  }

  @Test
  void aRunGetsABridgeSubnetTapAndNatOfItsOwnAndCloseRemovesThemAll() throws Exception {
    LocalNetwork net = open(Optional.empty(), Optional.empty());
    Attachment a = net.attach("web-0", VmPlan.NetworkPolicyPlan.DEFAULT, ETH0).getFirst();

    assertThat(net.names()).isEqualTo(new NetworkNames("hearth-run0", "hearth-run0", "hr0-"));
    assertThat(a.tap()).matches("hr0-[0-9a-f]{10}");
    assertThat(a.ip().getHostAddress()).isEqualTo("10.214.0.2");
    assertThat(ns.run("ip", "-br", "addr", "show", "dev", "hearth-run0")).contains("10.214.0.1/24");
    assertThat(ns.run("ip", "-d", "link", "show", "dev", a.tap()))
        .contains("master hearth-run0", "tun type tap");
    assertThat(ns.run("nft", "list", "table", "ip", "hearth-run0"))
        .contains("ip saddr 10.214.0.0/24 ip daddr != 10.214.0.0/24 masquerade");
    assertThat(tables()).doesNotContain("table ip hearth\n", "table bridge hearth\n");

    net.close();
    assertThat(links()).doesNotContain("hearth-run0", a.tap());
    assertThat(tables()).doesNotContain("hearth-run0");
    assertThat(state.resolve("slot-0")).doesNotExist();
  }

  @Test
  void twoRunsAtOnceShareNothingAndEachRemovesOnlyItsOwn() throws Exception {
    try (LocalNetwork first = open(Optional.empty(), Optional.empty())) {
      Attachment a;
      Attachment b;
      try (LocalNetwork second = open(Optional.empty(), Optional.empty())) {
        a = first.attach("vm", VmPlan.NetworkPolicyPlan.DEFAULT, ETH0).getFirst();
        b = second.attach("vm", VmPlan.NetworkPolicyPlan.DEFAULT, ETH0).getFirst();
        assertThat(second.names().bridge()).isEqualTo("hearth-run1");
        assertThat(b.ip().getHostAddress()).isEqualTo("10.214.1.2");
        assertThat(b.tap()).startsWith("hr1-").isNotEqualTo(a.tap());
      }
      assertThat(links()).contains("hearth-run0", a.tap()).doesNotContain("hearth-run1", b.tap());
      assertThat(tables()).contains("hearth-run0").doesNotContain("hearth-run1");
    }
  }

  @Test
  void aBridgeThatExistsOrASubnetInUseIsRefusedAndNothingIsMade() throws Exception {
    // A node agent's network on the same host.
    NodeNetwork agent =
        new NodeNetwork(
            ns,
            taps,
            new Ipam(Cidr.parse("10.214.0.0/16"), state.resolve("agent-ipam")),
            "hearth0");
    agent.setUp();

    assertThatThrownBy(() -> open(Optional.of("hearth0"), Optional.of(Cidr.parse("10.9.0.0/24"))))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessageContaining("bridge hearth0 exists already")
        .hasMessageContaining("pass --bridge");
    assertThatThrownBy(() -> open(Optional.empty(), Optional.empty()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessageContaining("subnet 10.214.0.0/24 (the default for this run) overlaps")
        .hasMessageContaining("10.214.0.0/16 dev hearth0")
        .hasMessageContaining("pass --subnet");
    assertThat(links()).doesNotContain("hearth-run");
    assertThat(tables()).doesNotContain("hearth-run").contains("table ip hearth");

    // The refused runs freed their slot; the agent's network is as it was.
    try (LocalNetwork net = open(Optional.of("br-test"), Optional.of(Cidr.parse("10.9.0.0/24")))) {
      assertThat(net.names()).isEqualTo(new NetworkNames("br-test", "hearth-run0", "hr0-"));
    }
    assertThat(ns.run("ip", "-br", "addr", "show", "dev", "hearth0")).contains("10.214.0.1/16");
    assertThat(tables()).contains("table ip hearth", "table bridge hearth");
  }

  @Test
  void whatAKilledRunLeftIsRemovedByTheNextRunInItsSlot() throws Exception {
    // As a run killed with SIGKILL leaves it: its owner file, bridge, tap, address and rules.
    NetworkNames names = new NetworkNames("hearth-run0", "hearth-run0", "hr0-");
    Path slot = Files.createDirectories(state.resolve("slot-0"));
    Files.writeString(
        slot.resolve("owner"),
        "bridge=hearth-run0\ntable=hearth-run0\ntaps=hr0-\nsubnet=10.214.0.0/24\n");
    NodeNetwork killed =
        new NodeNetwork(
            ns,
            taps,
            new Ipam(Cidr.parse("10.214.0.0/24"), slot.resolve("ipam")),
            names,
            IpBlock.PRIVATE_NETWORKS);
    killed.setUp();
    String leftTap =
        killed
            .attach("old", List.of(new NodeNetwork.InterfaceRequest("eth0", Optional.empty())))
            .getFirst()
            .tap();

    try (LocalNetwork net = open(Optional.empty(), Optional.empty())) {
      assertThat(links()).doesNotContain(leftTap).contains("hearth-run0");
      // The killed run's address is free again.
      assertThat(
              net.attach("new", VmPlan.NetworkPolicyPlan.DEFAULT, ETH0)
                  .getFirst()
                  .ip()
                  .getHostAddress())
          .isEqualTo("10.214.0.2");
    }
    assertThat(links()).doesNotContain("hearth-run0");
    assertThat(tables()).doesNotContain("hearth-run0");
  }

  @Test
  void withoutRootOrTunTheRunSaysWhatToDoInOneLine() throws Exception {
    Path noCaps =
        Files.writeString(state.resolve("status"), "Name:\tjava\nCapEff:\t0000000000000000\n");
    Path allCaps =
        Files.writeString(state.resolve("status-root"), "Name:\tjava\nCapEff:\t000001ffffffffff\n");
    Path tun = Files.writeString(state.resolve("tun"), "");

    assertThat(LocalNetwork.whyNot(noCaps, tun).orElseThrow())
        .isEqualTo(
            "spec.network needs root (CAP_NET_ADMIN) for its tap, bridge and NAT: run hearth run"
                + " as root, or remove spec.network");
    assertThat(LocalNetwork.whyNot(allCaps, state.resolve("no-tun")).orElseThrow())
        .contains("load the tun module (modprobe tun), or remove spec.network")
        .doesNotContain("\n");
    assertThat(LocalNetwork.whyNot(allCaps, tun)).isEmpty();
  }
}
