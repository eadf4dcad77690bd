package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.cli.HearthCommand;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.http.AgentHttpServer;
import dev.hearth.agent.http.HealthChecks;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.operator.OperatorCommand;
import dev.hearth.operator.OperatorHttpServer;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * A program the chart runs, seen through the program's own code: its command line (the picocli spec
 * the process parses, whose options take their defaults from {@code ${env:HEARTH_...}}) and its
 * HTTP server, started for real on a free port.
 */
record ChartedProgram(String name, Supplier<CommandLine> commandLine, HttpServerFactory server) {

  /** Starts the program's HTTP server on a free local port. */
  interface HttpServerFactory {
    Served start() throws IOException;
  }

  /** A started server: its port, and how to stop it. */
  record Served(int port, AutoCloseable stop) implements AutoCloseable {
    @Override
    public void close() {
      try {
        stop.close();
      } catch (RuntimeException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping a server", e);
      } catch (Exception e) {
        throw new IllegalStateException("cannot stop a server: " + e.getMessage(), e);
      }
    }
  }

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)(:-.*)?}");

  /** {@code hearth ...}: the agent image's entry point; the DaemonSet passes {@code agent}. */
  static final ChartedProgram AGENT =
      new ChartedProgram(
          "hearth (agent image)",
          HearthCommand::commandLine,
          () -> {
            AgentHttpServer s =
                new AgentHttpServer(
                        new InetSocketAddress("127.0.0.1", 0),
                        new ConsoleRegistry(1024),
                        new AgentMetrics(),
                        new HealthChecks())
                    .start();
            return new Served(s.port(), s);
          });

  /** {@code hearth-operator}: the operator image's entry point. */
  static final ChartedProgram OPERATOR =
      new ChartedProgram(
          "hearth-operator",
          OperatorCommand::commandLine,
          () -> {
            OperatorHttpServer s = new OperatorHttpServer(0, () -> "", List::of);
            return new Served(s.port(), s);
          });

  /**
   * The command the arguments select (a subcommand such as {@code agent}, or the program itself);
   * throws picocli's ParameterException for an argument the program does not take.
   */
  CommandLine command(List<String> args) {
    return commandLine().get().parseArgs(args.toArray(String[]::new)).asCommandLineList().getLast();
  }

  /** The environment variables that command reads, each to the option it sets. */
  Map<String, String> variables(List<String> args) {
    Map<String, String> out = new LinkedHashMap<>();
    for (OptionSpec o : options(command(args))) {
      String env = variable(o);
      if (env != null) {
        out.put(env, o.longestName());
      }
    }
    return out;
  }

  /** Options other than --help and --version. */
  static List<OptionSpec> options(CommandLine command) {
    return command.getCommandSpec().options().stream()
        .filter(o -> !o.usageHelp() && !o.versionHelp())
        .toList();
  }

  /** The variable an option's default names, as written in its annotation; null when none. */
  static String variable(OptionSpec o) {
    if (!(o.userObject() instanceof Field f) || f.getAnnotation(Option.class) == null) {
      return null;
    }
    Matcher m = ENV_DEFAULT.matcher(f.getAnnotation(Option.class).defaultValue());
    return m.matches() ? m.group(1) : null;
  }

  /**
   * Parses the arguments plus each variable as the flag it is the other spelling of, as the process
   * would see them; returns the command, whose options then hold the values.
   */
  CommandLine parse(List<String> args, Map<String, String> env) {
    Map<String, String> flagOf = variables(args);
    List<String> argv = new ArrayList<>(args);
    env.forEach(
        (name, value) -> {
          if (flagOf.containsKey(name)) {
            argv.add(flagOf.get(name) + "=" + value);
          }
        });
    return command(argv);
  }

  /** The status the program's own HTTP server answers for a GET of the path. */
  int statusOf(String path) throws Exception {
    try (Served s = server.start();
        HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    }
  }

  static Object value(CommandLine command, String option) {
    OptionSpec o = command.getCommandSpec().findOption(option);
    assertThat(o).as("option %s of %s", option, command.getCommandName()).isNotNull();
    return o.getValue();
  }

  @Override
  public String toString() {
    return name;
  }
}
