package dev.hearth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.ipam.Cidr;
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
