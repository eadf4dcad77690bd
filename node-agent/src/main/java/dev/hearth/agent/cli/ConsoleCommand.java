package dev.hearth.agent.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hearth console <ns>/<name>}: prints a VM's serial console from its node agent. */
@Command(
    name = "console",
    mixinStandardHelpOptions = true,
    description = "Print a MicroVM's recent serial console output, or follow it.")
final class ConsoleCommand implements Callable<Integer> {
  static final String DEFAULT_AGENT = "http://127.0.0.1:" + AgentCommand.DEFAULT_HTTP_PORT;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "NAMESPACE/NAME", description = "The MicroVM.")
  String vm;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing new output until the VM is removed.")
  boolean follow;

  @Option(
      names = "--agent",
      paramLabel = "URL",
      defaultValue = "${env:HEARTH_AGENT:-" + DEFAULT_AGENT + "}",
      description = "The node agent's HTTP address (default: $HEARTH_AGENT or ${DEFAULT-VALUE}).")
  String agent;

  @Override
  public Integer call() throws InterruptedException {
    String[] parts = vm.split("/", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, "'" + vm + "' is not NAMESPACE/NAME");
    }
    URI uri;
    try {
      uri =
          URI.create(
              agent.replaceAll("/+$", "")
                  + "/vms/"
                  + URLEncoder.encode(parts[0], StandardCharsets.UTF_8)
                  + "/"
                  + URLEncoder.encode(parts[1], StandardCharsets.UTF_8)
                  + "/console"
                  + (follow ? "?follow=true" : ""));
    } catch (IllegalArgumentException e) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, "--agent '" + agent + "' is not a URL");
    }
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpResponse<InputStream> response;
    try {
      response =
          client.send(
              HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (ConnectException e) {
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE, "cannot reach the node agent at " + agent);
    } catch (IOException e) {
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE, "asking the node agent at " + agent + " failed: " + e);
    }
    PrintWriter out = spec.commandLine().getOut();
    try (Reader body = new InputStreamReader(response.body(), StandardCharsets.UTF_8)) {
      if (response.statusCode() != 200) {
        String message = new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
        throw new UserFacingException(
            response.statusCode() == 404
                ? UserFacingException.BAD_INPUT
                : UserFacingException.UNAVAILABLE,
            message.strip().isEmpty()
                ? "the agent answered HTTP " + response.statusCode()
                : message.strip());
      }
      char[] buf = new char[8192];
      for (int n; (n = body.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE,
          "the console stream from " + agent + " broke: " + e.getMessage());
    }
    return 0;
  }
}
