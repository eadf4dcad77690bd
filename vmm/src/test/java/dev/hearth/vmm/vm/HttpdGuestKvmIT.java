package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code httpd} test guest serves TCP through the real VMM and a real tap: the host's own TCP
 * stack (curl, ping) talks to it from a network namespace of the test's, into which the tap moves
 * once the VM holds it, so the host's network is never touched. This is the guest the real-node
 * layer puts behind a Service.
 */
@RequiresKvm
@RequiresRoot
@Timeout(180)
class HttpdGuestKvmIT {
  private static final MacAddress MAC = MacAddress.parse("06:00:0a:4d:00:02");

  @Test
  void itAnswersArpPingAndOneHttpResponsePerConnectionNamingItself() throws Exception {
    long pid = ProcessHandle.current().pid() % 100000;
    String tapName = "hht" + pid;
    String ns = "hth-httpd-" + pid;
    try (HostTap _ = HostTap.create(tapName, 0x88b5)) {
      VmDevices devices =
          VmDevices.NONE.withNetInterface(NetInterfaceConfig.of("eth0", tapName, MAC));
      String cmdline =
          "console=ttyS0 ip=10.77.0.2::10.77.0.1:255.255.255.0:web-1:eth0:off httpd.port=8080";
      try (MicroVm vm =
          MicroVm.create(TestGuests.config("httpd", 1, 16, cmdline).withDevices(devices), null)) {
        vm.start();
        awaitConsole(vm, "httpd: 10.77.0.2 port 8080 host web-1 ready\n");
        ip("netns", "add", ns);
        try {
          ip("link", "set", tapName, "netns", ns);
          ip("-n", ns, "addr", "add", "10.77.0.1/24", "dev", tapName);
          ip("-n", ns, "link", "set", tapName, "up");
          ip("-n", ns, "link", "set", "lo", "up");

          // No ping on this host: one ICMP echo from a raw socket, its reply checked by id.
          Result echo = inNs(ns, "python3", "-c", PING, "10.77.0.2");
          assertThat(echo.status).as("ICMP echo: %s%n%s", echo.out, vm.console().text()).isZero();
          assertThat(echo.out).isEqualTo("echo reply\n");
          // Connections one after another: each gets the whole response and a clean close.
          for (int i = 1; i <= 3; i++) {
            Result curl =
                inNs(ns, "curl", "-sS", "-i", "--max-time", "15", "http://10.77.0.2:8080/x");
            assertThat(curl.status)
                .as("curl %d: %s%n%s", i, curl.out, vm.console().text())
                .isZero();
            assertThat(curl.out)
                .startsWith("HTTP/1.0 200 OK\r\n")
                .contains("Content-Length: 27\r\n")
                .endsWith("\r\n\r\nHello from Hearth VM web-1\n");
          }
          awaitConsole(vm, "httpd: served 3 to 10.77.0.1\n"); // printed after it sent
          // Another port is closed: a RST, not a timeout.
          Result refused = inNs(ns, "curl", "-sS", "--max-time", "10", "http://10.77.0.2:8081/");
          // 7: could not connect (a timeout would be 28)
          assertThat(refused.status).as(refused.out).isEqualTo(7);
          // A bare connect and close, as a TCP readiness probe does, leaves it serving.
          assertThat(inNs(ns, "bash", "-c", "exec 3<>/dev/tcp/10.77.0.2/8080; exec 3>&-").status)
              .isZero();
          assertThat(inNs(ns, "curl", "-sS", "--max-time", "15", "http://10.77.0.2:8080/").out)
              .isEqualTo("Hello from Hearth VM web-1\n");
          assertThat(vm.state()).isEqualTo(MicroVm.State.RUNNING);
        } finally {
          // Back to the host, so that HostTap removes it; the namespace goes with nothing in it.
          run(List.of("ip", "-n", ns, "link", "set", tapName, "netns", "1"));
          run(List.of("ip", "netns", "del", ns));
        }
      }
    }
    assertThat(HostTap.exists(tapName)).as("the test removed its tap").isFalse();
  }

  /** Sends one ICMP echo request to argv[1] and waits up to 10 s for its reply. */
  private static final String PING =
      """
      import socket, struct, sys
      def csum(b):
          s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
          s = (s >> 16) + (s & 0xffff)
          return ~(s + (s >> 16)) & 0xffff
      s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
      s.settimeout(10)
      body = struct.pack('!BBHHH', 8, 0, 0, 0x4854, 1) + b'hearth-ping-data'
      pkt = body[:2] + struct.pack('!H', csum(body)) + body[4:]
      s.sendto(pkt, (sys.argv[1], 0))
      while True:
          data, _ = s.recvfrom(2048)
          icmp = data[(data[0] & 15) * 4:]
          if icmp[0] == 0 and icmp[4:6] == b'HT' and icmp[8:] == b'hearth-ping-data':
              print('echo reply')
              break
      """;

  private static void awaitConsole(MicroVm vm, String text) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!vm.console().text().contains(text)) {
      assertThat(System.nanoTime())
          .as("waiting for %s; console: %s, state %s", text, vm.console().text(), vm.state())
          .isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private record Result(int status, String out) {}

  private static void ip(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Result r = run(command);
    assertThat(r.status).as("%s: %s", command, r.out).isZero();
  }

  private static Result inNs(String ns, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    command.addAll(List.of(args));
    return run(command);
  }

  private static Result run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    return new Result(
        p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
