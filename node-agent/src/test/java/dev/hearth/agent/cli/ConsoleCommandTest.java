package dev.hearth.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.http.AgentHttpServer;
import dev.hearth.agent.http.HealthChecks;
import dev.hearth.agent.metrics.AgentMetrics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ConsoleCommandTest {
  private final ConsoleRegistry consoles = new ConsoleRegistry(4096);
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private AgentHttpServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        new AgentHttpServer(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                consoles,
                new AgentMetrics(),
                new HealthChecks())
            .start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int hearth(String... args) {
    CommandLine cmd = HearthCommand.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  private String agent() {
    return "http://127.0.0.1:" + server.port();
  }

  @Test
  void printsTheTail() {
    consoles.open("default", "vm").write("hello\n".getBytes(StandardCharsets.UTF_8), 0, 6);
    assertThat(hearth("console", "default/vm", "--agent", agent())).isZero();
    assertThat(out.toString()).isEqualTo("hello\n");
  }

  @Test
  void followsUntilTheVmGoes() throws Exception {
    var buf = consoles.open("default", "vm");
    CompletableFuture<Integer> status =
        CompletableFuture.supplyAsync(
            () -> hearth("console", "default/vm", "-f", "--agent", agent()));
    buf.write("one\n".getBytes(StandardCharsets.UTF_8), 0, 4);
    Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> out.toString().equals("one\n"));
    buf.write("two\n".getBytes(StandardCharsets.UTF_8), 0, 4);
    Awaitility.await()
        .atMost(10, TimeUnit.SECONDS)
        .until(() -> out.toString().equals("one\ntwo\n"));
    consoles.remove("default", "vm");
    assertThat(status.get(10, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void anUnknownVmOrAgentIsOneClearLine() {
    assertThat(hearth("console", "default/none", "--agent", agent()))
        .isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString()).isEqualTo("hearth: no MicroVM default/none on this node\n");
    server.close();
    StringWriter fresh = new StringWriter();
    CommandLine cmd = HearthCommand.commandLine();
    cmd.setErr(new PrintWriter(fresh, true));
    assertThat(cmd.execute("console", "default/none", "--agent", agent()))
        .isEqualTo(UserFacingException.UNAVAILABLE);
    assertThat(fresh.toString()).startsWith("hearth: cannot reach the node agent at " + agent());
    assertThat(hearth("console", "justaname")).isEqualTo(UserFacingException.BAD_INPUT);
  }
}
