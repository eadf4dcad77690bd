package dev.hearth.agent.testing;

import dev.hearth.agent.auth.KubeAuthorizer;
import dev.hearth.agent.console.ConsoleBuffer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.http.AgentHttpServer;
import dev.hearth.agent.http.HealthChecks;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.tls.CertificatePin;
import dev.hearth.agent.tls.ServingCertificate;
import dev.hearth.vmm.devices.legacy.ConsoleOutput;
import dev.hearth.vmm.devices.legacy.Serial16550;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Two tenants on the real API server and an agent HTTPS server that checks them with the chart's
 * agent token: tenant {@code a} holds the chart's console ClusterRole in namespace {@link #nsA},
 * tenant {@code b} the same in {@link #nsB}, {@code reader} of namespace A only {@code get} on
 * {@code microvms/console}, and {@code scraper} the chart's metrics-reader ClusterRole. VM {@code
 * vm} of namespace A has a console buffer whose input goes to a real 16550 UART, as a running VM's
 * does.
 */
public final class ConsoleTenants implements AutoCloseable {
  public final String nsA = SharedApiServer.createNamespace("console-a");
  public final String nsB = SharedApiServer.createNamespace("console-b");
  public final ConsoleRegistry consoles = new ConsoleRegistry(4096);
  public final ConsoleBuffer buffer = consoles.open(nsA, "vm");
  public final Serial16550 uart =
      new Serial16550(new ConsoleOutput(1024, buffer.asOutputStream()), () -> {});
  public final AgentMetrics metrics = new AgentMetrics();
  public final HealthChecks health = new HealthChecks();
  public final ServingCertificate certificate;
  public final AgentHttpServer server;
  public final String tokenA;
  public final String tokenB;
  public final String readerToken;
  public final String scraperToken;
  private final KubernetesClient agent = SharedApiServer.agentClient();
  private final String scraperBinding;

  public ConsoleTenants(InetSocketAddress bind) throws Exception {
    KubernetesClient admin = SharedApiServer.client();
    String release = SharedApiServer.leaseNamespace();
    ClusterRole console = chartRole(admin, release, "-console");
    ClusterRole metricsReader = chartRole(admin, release, "-metrics-reader");
    tokenA = tenant(admin, nsA, "tenant", console.getMetadata().getName());
    tokenB = tenant(admin, nsB, "tenant", console.getMetadata().getName());
    admin
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("console-get")
                .withNamespace(nsA)
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups("hearth.dev")
                        .withResources("microvms/console")
                        .withVerbs("get")
                        .build())
                .build())
        .create();
    readerToken = account(admin, nsA, "reader");
    bind(admin, nsA, "reader", "Role", "console-get");
    scraperToken = account(admin, nsA, "scraper");
    scraperBinding = nsA + "-scraper";
    admin
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(scraperBinding)
                .endMetadata()
                .withNewRoleRef(
                    "rbac.authorization.k8s.io",
                    "ClusterRole",
                    metricsReader.getMetadata().getName())
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("scraper")
                .withNamespace(nsA)
                .endSubject()
                .build())
        .create();
    buffer.attachInput(uart::enqueueInput);
    certificate = ServingCertificate.create("test-agent");
    server =
        new AgentHttpServer(
                bind,
                certificate.serverContext(),
                new KubeAuthorizer(agent),
                consoles,
                metrics,
                health)
            .start();
  }

  /** What the guest has read from its UART so far, draining the FIFO. */
  public String guestRead(ByteArrayOutputStream soFar) {
    while (uart.inputSpace() < Serial16550.FIFO_SIZE) {
      byte[] b = new byte[1];
      uart.read(0, b); // the data register
      soFar.write(b[0]);
    }
    return soFar.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A client trusting exactly this server's certificate. */
  public HttpClient client() {
    return HttpClient.newBuilder()
        .sslContext(new CertificatePin(certificate.sha256()).clientContext())
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** {@code GET https://127.0.0.1:<port><path>}, with {@code token} when not null. */
  public HttpResponse<String> get(String path, String token) throws Exception {
    return get("127.0.0.1", path, token);
  }

  /** {@code GET https://<host>:<port><path>}, with {@code token} when not null. */
  public HttpResponse<String> get(String host, String path, String token) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("https://" + host + ":" + server.port() + path))
            .timeout(Duration.ofSeconds(20));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    try (HttpClient c = client()) {
      return c.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  @Override
  public void close() {
    server.close();
    agent.close();
    SharedApiServer.client().rbac().clusterRoleBindings().withName(scraperBinding).delete();
    SharedApiServer.deleteNamespace(nsA);
    SharedApiServer.deleteNamespace(nsB);
  }

  /**
   * A new ServiceAccount {@code sa} of {@code ns} holding the chart's console ClusterRole in {@code
   * ns} (a RoleBinding, as a namespace admin grants it); returns a token of it.
   */
  public static String consoleTenant(String ns, String sa) {
    KubernetesClient admin = SharedApiServer.client();
    ClusterRole console = chartRole(admin, SharedApiServer.leaseNamespace(), "-console");
    return tenant(admin, ns, sa, console.getMetadata().getName());
  }

  private static ClusterRole chartRole(KubernetesClient admin, String release, String suffix) {
    return admin
        .rbac()
        .clusterRoles()
        .withLabel("app.kubernetes.io/instance", release)
        .list()
        .getItems()
        .stream()
        .filter(r -> r.getMetadata().getName().endsWith(suffix))
        .findFirst()
        .orElseThrow(() -> new AssertionError("the chart has no ClusterRole *" + suffix));
  }

  private static String tenant(KubernetesClient admin, String ns, String sa, String clusterRole) {
    String token = account(admin, ns, sa);
    bind(admin, ns, sa, "ClusterRole", clusterRole);
    return token;
  }

  private static void bind(KubernetesClient admin, String ns, String sa, String kind, String role) {
    admin
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(sa + "-" + role)
                .withNamespace(ns)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", kind, role)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(sa)
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
  }

  private static String account(KubernetesClient admin, String ns, String sa) {
    admin
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(sa)
                .withNamespace(ns)
                .endMetadata()
                .build())
        .create();
    try (KubernetesClient c = SharedApiServer.plane().clientAs(ns, sa)) {
      return c.getConfiguration().getOauthToken();
    }
  }
}
