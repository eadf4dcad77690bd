package dev.hearth.agent.ipam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IpamTest {
  @TempDir Path dir;

  private Ipam ipam(String cidr) {
    return new Ipam(Cidr.parse(cidr), dir.resolve("ipam"));
  }

  @Test
  void cidrKnowsGatewayAndGuestRange() {
    Cidr c = Cidr.parse("10.200.0.0/24");
    assertThat(Cidr.format(c.gateway())).isEqualTo("10.200.0.1");
    assertThat(Cidr.format(c.firstGuest())).isEqualTo("10.200.0.2");
    assertThat(Cidr.format(c.lastGuest())).isEqualTo("10.200.0.254");
    assertThat(Cidr.format(c.netmask())).isEqualTo("255.255.255.0");
    assertThat(c.guestCapacity()).isEqualTo(253);
  }

  @Test
  void cidrRejectsMalformedSubnetsWithTheText() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.1/24")).hasMessageContaining("use 10.0.0.0/24");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0")).hasMessageContaining("a.b.c.d/n");
    assertThatThrownBy(() -> Cidr.parse("10.0.300.0/24")).hasMessageContaining("IPv4");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/31")).hasMessageContaining("/8../30");
  }

  @Test
  void cidrOverlapsShorterLongerAndHostRoutesOnlyWhereTheyShareAnAddress() {
    Cidr c = Cidr.parse("10.214.3.0/24");
    assertThat(c.overlaps("10.214.0.0/16")).isTrue();
    assertThat(c.overlaps("10.214.3.128/25")).isTrue();
    assertThat(c.overlaps("10.214.3.7")).isTrue();
    assertThat(c.overlaps("0.0.0.0/0")).isTrue();
    assertThat(c.overlaps("10.214.4.0/24")).isFalse();
    assertThat(c.overlaps("10.213.0.0/16")).isFalse();
    assertThatThrownBy(() -> c.overlaps("10.0.0.0/40")).hasMessageContaining("a.b.c.d[/n]");
  }

  @Test
  void allocationIsStablePerOwnerAndSurvivesARestart() {
    Ipam a = ipam("10.200.0.0/24");
    var first = a.allocate("uid-1/eth0");
    var second = a.allocate("uid-2/eth0");
    assertThat(first.getHostAddress()).isEqualTo("10.200.0.2");
    assertThat(second.getHostAddress()).isEqualTo("10.200.0.3");
    assertThat(a.allocate("uid-1/eth0")).isEqualTo(first);

    Ipam restarted = ipam("10.200.0.0/24");
    assertThat(restarted.allocate("uid-1/eth0")).isEqualTo(first);
    assertThat(restarted.allocate("uid-2/eth0")).isEqualTo(second);
    assertThat(restarted.allocate("uid-3/eth0").getHostAddress()).isEqualTo("10.200.0.4");
  }

  @Test
  void releasedAddressesAreNotReusedAtOnceButAreReusedWhenTheRangeWraps() {
    Ipam a = ipam("10.1.0.0/29"); // guests .2 .. .6
    for (int i = 0; i < 5; i++) {
      a.allocate("vm" + i);
    }
    assertThatThrownBy(() -> a.allocate("vm5")).hasMessageContaining("exhausted");
    a.release("vm1");
    assertThat(a.allocate("vm5").getHostAddress()).isEqualTo("10.1.0.3");
    a.release("vm0");
    a.release("vm3");
    assertThat(ipam("10.1.0.0/29").allocate("vm6").getHostAddress()).isEqualTo("10.1.0.5");
  }

  @Test
  void reconcileFreesOwnersThatAreNoLongerLive() {
    Ipam a = ipam("10.200.0.0/24");
    a.allocate("live/eth0");
    a.allocate("gone/eth0");
    a.allocate("gone/eth1");
    assertThat(a.reconcile(Set.of("live/eth0"))).containsExactly("gone/eth0", "gone/eth1");
    assertThat(ipam("10.200.0.0/24").allocations()).containsOnlyKeys("live/eth0");
  }

  @Test
  void allocationsOutsideANewSubnetAreDropped() {
    ipam("10.200.0.0/24").allocate("vm");
    Ipam moved = ipam("10.201.0.0/24");
    assertThat(moved.allocations()).isEmpty();
    assertThat(moved.allocate("vm").getHostAddress()).isEqualTo("10.201.0.2");
  }

  @Test
  void aCorruptStateFileIsAClearError() throws Exception {
    Files.writeString(dir.resolve("ipam"), "vm 10.200.0.2 extra\n");
    assertThatThrownBy(() -> ipam("10.200.0.0/24"))
        .isInstanceOf(IpamException.class)
        .hasMessageContaining("ipam:1: malformed line");
  }

  @Test
  void theStateFileIsReplacedAtomicallyWithNoTempFileLeft() throws Exception {
    Ipam a = ipam("10.200.0.0/24");
    a.allocate("vm");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("ipam");
    }
  }
}
