package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class DestinationsTest {
  private static boolean allowed(Destinations d, String address) throws Exception {
    return d.refusal(InetAddress.getByName(address)).isEmpty();
  }

  @Test
  void theNodeTheMetadataServiceAndReservedRangesAreNeverReachable() throws Exception {
    for (String a :
        new String[] {
          "127.0.0.1",
          "127.1.2.3",
          "::1",
          "169.254.169.254",
          "fe80::1",
          "0.0.0.0",
          "::",
          "224.0.0.1",
          "ff02::1",
          "255.255.255.255",
          "::ffff:127.0.0.1",
          "::7f00:1",
          "64:ff9b::a9fe:a9fe",
          "fec0::1"
        }) {
      assertThat(allowed(Destinations.PUBLIC, a)).as(a).isFalse();
      assertThat(allowed(Destinations.PUBLIC_AND_PRIVATE, a)).as(a).isFalse();
      assertThat(allowed(Destinations.ANY, a)).as(a).isTrue();
    }
  }

  @Test
  void privateRangesNeedTheSetting() throws Exception {
    for (String a :
        new String[] {"10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "fd00::1"}) {
      assertThat(allowed(Destinations.PUBLIC, a)).as(a).isFalse();
      assertThat(allowed(Destinations.PUBLIC_AND_PRIVATE, a)).as(a).isTrue();
    }
    for (String a : new String[] {"93.184.216.34", "2606:2800:220:1::1", "172.32.0.1"}) {
      assertThat(allowed(Destinations.PUBLIC, a)).as(a).isTrue();
    }
  }
}
