package dev.hearth.agent.cli;

import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import dev.hearth.api.v1alpha1.MicroVM;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hearth console <name> [-n ns]}: attaches the terminal to a MicroVM's serial console. It
 * reads the VM's {@code status.console} (the node agent's HTTPS address and certificate hash) with
 * the user's kubeconfig, then connects to that agent with the same bearer token; the agent asks the
 * API server whether the user may ({@code microvms/console}: {@code create} to type, {@code get} to
 * read).
 */
@Command(
    name = "console",
    mixinStandardHelpOptions = true,
    description = {
      "Attach to a MicroVM's serial console: its recent output, then output and input live.",
      "Detach with Ctrl-] (as telnet). Needs create on microvms/console (group hearth.dev)"
          + " in the VM's namespace; --read-only needs get."
    })
final class ConsoleCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", description = "The MicroVM.")
  String name;

  @Option(
      names = {"-n", "--namespace"},
      description = "Its namespace (default: the kubeconfig context's, else default).")
  String namespace;

  @Option(
      names = "--read-only",
      description = "Only print output (follows it until the VM is removed); sends no input.")
  boolean readOnly;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "The kubeconfig to use (default: $KUBECONFIG or ~/.kube/config).")
  Path kubeconfig;

  @Option(names = "--context", description = "The kubeconfig context to use.")
  String context;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      defaultValue = "${env:HEARTH_TOKEN}",
      description =
          "Bearer token for the API server and the agent (env HEARTH_TOKEN; default: the"
              + " kubeconfig's token). The agent checks tokens only, not client certificates.")
  String token;

  // The terminal; tests give streams.
  InputStream in = System.in;
  OutputStream out = System.out;

  @Override
  public Integer call() throws Exception {
    Config config = config();
    String ns = namespace != null ? namespace : config.getNamespace();
    if (ns == null || ns.isBlank()) {
      ns = "default";
    }
    String bearer = bearer(config);
    ConsoleEndpoint endpoint;
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      endpoint = endpoint(client, ns);
    }
    ConsoleClient console = new ConsoleClient(endpoint, ns, name, bearer);
    if (readOnly) {
      console.follow(out);
    } else {
      console.attach(in, out, System.err);
    }
    return 0;
  }

  private Config config() {
    try {
      Config c =
          kubeconfig != null
              ? Config.fromKubeconfig(context, kubeconfig.toFile())
              : Config.autoConfigure(context);
      if (token != null && !token.isBlank()) {
        c.setOauthToken(token.strip());
      }
      return c;
    } catch (KubernetesClientException e) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, "cannot read the kubeconfig: " + e.getMessage());
    }
  }

  /** The token the agent checks: --token, or the kubeconfig's (static, exec plugin or provider). */
  private static String bearer(Config c) {
    String t = null;
    if (c.getOauthTokenProvider() != null) {
      t = c.getOauthTokenProvider().getToken();
    }
    if (t == null || t.isBlank()) {
      t = c.getOauthToken();
    }
    if (t == null || t.isBlank()) {
      t = c.getAutoOAuthToken();
    }
    if (t == null || t.isBlank()) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT,
          "the kubeconfig has no bearer token (the node agent cannot check client certificates):"
              + " pass --token or HEARTH_TOKEN");
    }
    return t.strip();
  }

  private ConsoleEndpoint endpoint(KubernetesClient client, String ns) {
    MicroVM vm;
    try {
      vm = client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
    } catch (KubernetesClientException e) {
      throw new UserFacingException(
          e.getCode() == 401 || e.getCode() == 403
              ? UserFacingException.BAD_INPUT
              : UserFacingException.UNAVAILABLE,
          "cannot read MicroVM " + ns + "/" + name + ": " + e.getMessage());
    }
    if (vm == null) {
      throw new UserFacingException(UserFacingException.BAD_INPUT, "no MicroVM " + ns + "/" + name);
    }
    ConsoleEndpoint e = vm.getStatus() == null ? null : vm.getStatus().getConsole();
    if (e == null || e.getUrl() == null || e.getCertificateSha256() == null) {
      String phase =
          vm.getStatus() == null || vm.getStatus().getPhase() == null
              ? "Pending"
              : vm.getStatus().getPhase().toString();
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE,
          "MicroVM "
              + ns
              + "/"
              + name
              + " has no console yet (phase "
              + phase
              + "): its node's agent publishes one when the VM runs");
    }
    return e;
  }
}
