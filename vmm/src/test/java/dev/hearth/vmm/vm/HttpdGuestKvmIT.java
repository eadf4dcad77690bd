package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import dev.hearth.vmm.vm.TcpSegments.End;
import dev.hearth.vmm.vm.TcpSegments.Segment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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
    // The nested-KVM machine's busybox root has neither; the raw-frame test below runs there too.
    for (String tool : List.of("curl", "python3")) {
      assumeTrue(
          run(List.of("sh", "-c", "command -v " + tool)).status == 0, "no " + tool + " here");
    }
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

  /**
   * TCP by hand through the tap, as a lossy network makes a client retry: a SYN sent twice gets the
   * same SYN-ACK twice, a request sent twice gets the response (with its FIN) twice, the client's
   * FIN sent twice is acknowledged twice, and a segment of no connection gets a RST.
   */
  @Test
  void retransmittedSynRequestAndFinAreAnsweredAgain() throws Exception {
    String tapName = "hhr" + ProcessHandle.current().pid() % 100000;
    try (HostTap tap = HostTap.create(tapName, 0x0800)) {
      VmDevices devices =
          VmDevices.NONE.withNetInterface(NetInterfaceConfig.of("eth0", tapName, MAC));
      String cmdline = "console=ttyS0 ip=10.77.0.2::10.77.0.1:255.255.255.0:web-1:eth0:off";
      try (MicroVm vm =
          MicroVm.create(TestGuests.config("httpd", 1, 16, cmdline).withDevices(devices), null)) {
        vm.start();
        awaitConsole(vm, "httpd: 10.77.0.2 port 8080 host web-1 ready\n");
        End client = new End(MacAddress.parse("06:00:0a:4d:00:01").octets(), 0x0a4d0001, 40000);
        End guest = new End(MAC.octets(), 0x0a4d0002, 8080);
        byte[] none = new byte[0];

        byte[] syn = TcpSegments.frame(client, guest, 1000, 0, TcpSegments.SYN, none);
        tap.send(syn);
        Segment synAck = next(tap, vm);
        assertThat(synAck.flags()).isEqualTo(TcpSegments.SYN | TcpSegments.ACK);
        assertThat(synAck.ack()).isEqualTo(1001);
        long iss = synAck.seq();
        tap.send(syn);
        Segment again = next(tap, vm);
        assertThat(List.of(again.flags(), again.seq(), again.ack()))
            .as("the SYN-ACK again")
            .isEqualTo(List.of(synAck.flags(), iss, 1001L));

        byte[] request = "GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        tap.send(TcpSegments.frame(client, guest, 1001, u32(iss + 1), TcpSegments.ACK, none));
        byte[] requestFrame =
            TcpSegments.frame(
                client, guest, 1001, u32(iss + 1), TcpSegments.ACK | TcpSegments.PSH, request);
        tap.send(requestFrame);
        Segment response = next(tap, vm);
        assertThat(response.flags()).isEqualTo(TcpSegments.ACK | TcpSegments.PSH | TcpSegments.FIN);
        assertThat(response.seq()).isEqualTo(u32(iss + 1));
        assertThat(response.ack()).isEqualTo(1001 + request.length);
        assertThat(new String(response.payload(), StandardCharsets.US_ASCII))
            .startsWith("HTTP/1.0 200 OK\r\n")
            .endsWith("\r\n\r\nHello from Hearth VM web-1\n");
        tap.send(requestFrame);
        Segment resent = next(tap, vm);
        assertThat(List.of(resent.flags(), resent.seq(), resent.ack()))
            .as("the response again")
            .isEqualTo(List.of(response.flags(), response.seq(), response.ack()));
        assertThat(resent.payload()).isEqualTo(response.payload());

        long finSeq = 1001 + request.length;
        long acked = u32(iss + 1 + response.payload().length + 1); // the response and its FIN
        byte[] fin =
            TcpSegments.frame(
                client, guest, finSeq, acked, TcpSegments.ACK | TcpSegments.FIN, none);
        for (int i = 0; i < 2; i++) {
          tap.send(fin);
          Segment finAck = next(tap, vm);
          assertThat(List.of(finAck.flags(), finAck.seq(), finAck.ack()))
              .as("the ACK of the client's FIN, sent %d times", i + 1)
              .isEqualTo(List.of(TcpSegments.ACK, acked, finSeq + 1));
        }

        End stranger = new End(client.mac(), client.ip(), 40001);
        tap.send(TcpSegments.frame(stranger, guest, 5000, 7777, TcpSegments.ACK, none));
        Segment rst = next(tap, vm);
        assertThat(List.of(rst.flags(), rst.seq(), rst.dstPort()))
            .as("a RST for a segment of no connection")
            .isEqualTo(List.of(TcpSegments.RST, 7777L, 40001));
        assertThat(vm.console().text()).contains("httpd: served 1 to 10.77.0.1\n");
      }
    }
  }

  /** The next TCP segment the guest sent through the tap. */
  private static Segment next(HostTap tap, MicroVm vm) throws InterruptedException {
    for (int frames = 0; frames < 16; frames++) {
      byte[] frame =
          tap.receive(Duration.ofSeconds(10))
              .orElseThrow(
                  () -> new AssertionError("no frame from the guest; " + vm.console().text()));
      // The packet socket sees both directions: only what the guest sent counts.
      boolean fromGuest = Arrays.equals(Arrays.copyOfRange(frame, 6, 12), MAC.octets());
      Segment s = fromGuest ? TcpSegments.parse(frame) : null;
      if (s != null) {
        return s;
      }
    }
    throw new AssertionError("only frames without TCP came");
  }

  private static long u32(long v) {
    return v & 0xffffffffL;
  }

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
