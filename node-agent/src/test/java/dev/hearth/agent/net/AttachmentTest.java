package dev.hearth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.ipam.Cidr;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttachmentTest {
  private final Cidr subnet = Cidr.parse("10.200.0.0/16");
  private final Attachment a =
      new Attachment(
          "eth0",
          "uid/eth0",
          InterfaceNames.tapName("uid/eth0"),
          InterfaceNames.mac("uid/eth0"),
          Cidr.toInet(subnet.firstGuest()),
          subnet,
          Cidr.toInet(subnet.gateway()));

  @Test
  void theKernelIpArgumentFollowsTheNfsrootFormat() {
    assertThat(a.kernelIpArgument("web-1", "eth0"))
        .isEqualTo("ip=10.200.0.2::10.200.0.1:255.255.0.0:web-1:eth0:off");
  }

  @Test
  void namesAndMacsAreStablePerOwnerAndLocallyAdministered() {
    assertThat(InterfaceNames.tapName("uid/eth0")).isEqualTo(a.tap()).matches("hth[0-9a-f]{10}");
    assertThat(InterfaceNames.tapName("uid/eth1")).isNotEqualTo(a.tap());
    assertThat(a.mac()).matches("02(:[0-9a-f]{2}){5}");
  }

  @Test
  void rulesAllowOnlyEachTapsOwnAddressesAndDropUnknownHearthTaps() {
    String rules = new FirewallRules((argv, in) -> "", "hearth0", subnet).render(List.of(a));
    assertThat(rules)
        .contains("ip saddr 10.200.0.0/16 ip daddr != 10.200.0.0/16 masquerade")
        .contains("iifname \"" + a.tap() + "\" ether saddr != " + a.mac() + " drop")
        .contains("iifname \"" + a.tap() + "\" arp saddr ip != 10.200.0.2 drop")
        .contains("iifname \"" + a.tap() + "\" accept")
        .endsWith("    iifname \"hth*\" drop\n  }\n}\n");
  }

  @Test
  void anotherNetworksRulesLiveInItsOwnTablesAndGuardOnlyItsOwnTaps() {
    NetworkNames run = new NetworkNames("hearth-run3", "hearth-run3", "hr3-");
    Attachment b =
        new Attachment(
            "eth0",
            "vm/eth0",
            InterfaceNames.tapName(run.tapPrefix(), "vm/eth0"),
            InterfaceNames.mac("vm/eth0"),
            Cidr.toInet(subnet.firstGuest()),
            subnet,
            Cidr.toInet(subnet.gateway()));
    assertThat(b.tap()).matches("hr3-[0-9a-f]{10}");
    String rules = new FirewallRules((argv, in) -> "", run, subnet).render(List.of(b));
    assertThat(rules)
        .contains("table ip hearth-run3 {", "table bridge hearth-run3 {")
        .doesNotContain("table ip hearth\n", "hth")
        .contains("iifname \"" + b.tap() + "\" accept")
        .endsWith("    iifname \"hr3-*\" drop\n  }\n}\n");
  }

  @Test
  void namesThatCouldReachAnotherNetworkOrTheRulesAreRefused() {
    assertThatThrownBy(() -> new NetworkNames("br", "hearth run", "hr0-"))
        .isInstanceOf(NetworkException.class);
    assertThatThrownBy(() -> new NetworkNames("br", "t", "hr100-")).hasMessageContaining("1 to 5");
    assertThatThrownBy(() -> new NetworkNames("a-bridge-name-too-long", "t", "hr0-"))
        .hasMessageContaining("1 to 15");
    assertThat(NetworkNames.agent("hearth0"))
        .isEqualTo(new NetworkNames("hearth0", "hearth", "hth"));
  }
}
