package dev.hearth.testkit;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Kubernetes API server for tests: by default a control plane of this JVM's own (etcd,
 * kube-apiserver, kube-controller-manager, started by {@code test-cluster/control-plane.sh} in a
 * temporary folder, on free loopback ports), or, in <em>KUBECONFIG mode</em>, the cluster the
 * {@code KUBECONFIG} environment variable or the {@code kubeconfig} system property names, where
 * nothing is started or stopped.
 *
 * <p>The server enforces what the fabric8 mock does not: CRD schemas and CEL rules, RBAC, admission
 * (ValidatingAdmissionPolicy included), server-side apply, the status subresource; its
 * controller-manager deletes namespaces and collects garbage. Test classes share one ({@link
 * #shared()}) and keep apart by namespace ({@link #createNamespace}).
 *
 * <p>Without Kubernetes binaries, {@link #shared()} skips the calling test with one line saying how
 * to get them, except under {@code CI=true}, where it fails it.
 */
public final class ControlPlane implements AutoCloseable {
  /** The field manager this class applies with. */
  public static final String FIELD_MANAGER = "hearth-testkit";

  /** Label on every namespace {@link #createNamespace} makes, to find leftovers on a cluster. */
  public static final String CREATED_BY_LABEL = "app.kubernetes.io/created-by";

  /** The address of this machine's loopback as a guest on QEMU's user network sees it. */
  public static final String QEMU_USER_NET_HOST = "10.0.2.2";

  private static final long TOKEN_SECONDS = 3600;
  private static final SecureRandom RANDOM = new SecureRandom();

  private static ControlPlane shared;
  private static RuntimeException sharedFailure;
  private static String sharedUnavailable;

  private final ControlPlaneScript script; // null in KUBECONFIG mode
  private final Path dir; // null in KUBECONFIG mode
  private final Map<String, String> facts;
  private final Path kubeconfig;
  private final Config adminConfig;
  private final KubernetesClient client;

  private ControlPlane(
      ControlPlaneScript script, Path dir, Map<String, String> facts, Path kubeconfig) {
    this.script = script;
    this.dir = dir;
    this.facts = facts;
    this.kubeconfig = kubeconfig;
    this.adminConfig = Config.fromKubeconfig(kubeconfig.toFile());
    this.client = new KubernetesClientBuilder().withConfig(adminConfig).build();
  }

  /**
   * The one control plane of this JVM, started on first use and stopped when the JVM exits; in
   * KUBECONFIG mode, the named cluster. Skips the calling test (fails it under {@code CI=true})
   * when no Kubernetes binaries are found. Shared by every test class of the JVM: never close it.
   *
   * @throws TestClusterException when a control plane was to be started and could not be
   */
  public static synchronized ControlPlane shared() {
    if (shared == null && sharedFailure == null && sharedUnavailable == null) {
      try {
        Optional<Path> named = kubeconfigNamed();
        if (named.isPresent()) {
          System.err.println("hearth-testkit: KUBECONFIG mode, the cluster of " + named.get());
          shared = new ControlPlane(null, null, Map.of(), named.get());
        } else {
          startShared();
        }
      } catch (RuntimeException e) {
        sharedFailure = e;
      }
    }
    if (sharedFailure != null) {
      throw new TestClusterException(
          "the shared control plane failed to start: " + sharedFailure.getMessage(), sharedFailure);
    }
    if (sharedUnavailable != null) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new TestClusterException(
            sharedUnavailable + " (CI=true: the real-cluster tests must run, not skip)");
      }
      Assumptions.abort(sharedUnavailable);
    }
    return shared;
  }

  private static void startShared() {
    Path dir;
    try {
      dir = Files.createTempDirectory("hearth-control-plane-");
    } catch (IOException e) {
      throw new TestClusterException("cannot make a folder for the control plane", e);
    }
    ControlPlaneScript script = ControlPlaneScript.locate();
    ControlPlaneScript.Result result = script.start(dir);
    if (result.exitCode() == ControlPlaneScript.EXIT_NO_BINARIES) {
      deleteTree(dir);
      sharedUnavailable = lastLine(result.output()).replaceFirst("^control-plane: ", "");
      // Surefire reports a class skipped in @BeforeAll as zero tests, without the reason: say it.
      if (!"true".equalsIgnoreCase(System.getenv("CI"))) {
        System.err.println("hearth-testkit: skipping the real-cluster tests: " + sharedUnavailable);
      }
      return;
    }
    ControlPlane plane = started(script, dir, result);
    Runtime.getRuntime().addShutdownHook(new Thread(plane::close, "hearth-control-plane-stop"));
    shared = plane;
  }

  /**
   * The cluster {@code kubeconfig} names, as {@link #shared()} uses it in KUBECONFIG mode: nothing
   * is started or stopped, and {@link #close()} closes only its client.
   */
  public static ControlPlane ofKubeconfig(Path kubeconfig) {
    return new ControlPlane(null, null, Map.of(), kubeconfig);
  }

  /**
   * Starts a control plane of the caller's own in {@code dir} (for a test that must not share one);
   * {@link #close()} stops it. Prefer {@link #shared()}.
   *
   * @throws TestClusterException when it cannot start, also for want of binaries
   */
  public static ControlPlane start(Path dir) {
    ControlPlaneScript script = ControlPlaneScript.locate();
    return started(script, dir, script.start(dir));
  }

  private static ControlPlane started(
      ControlPlaneScript script, Path dir, ControlPlaneScript.Result result) {
    if (result.exitCode() != 0) {
      throw new TestClusterException(
          "test-cluster/control-plane.sh start "
              + dir
              + " exited with "
              + result.exitCode()
              + " (logs in "
              + dir.resolve("logs")
              + "): "
              + result.output());
    }
    System.err.println(
        "hearth-testkit: " + lastLine(result.output()).replaceFirst("^control-plane: ", ""));
    return new ControlPlane(
        script, dir, ControlPlaneScript.readFacts(dir), dir.resolve("kubeconfig"));
  }

  /**
   * The repository the tests run in (found as {@code test-cluster/control-plane.sh} is), for its
   * committed files: {@code crds/yaml}, {@code helm/hearth}, {@code examples}.
   */
  public static Path repository() {
    return ControlPlaneScript.locate().repository();
  }

  /** Whether this is a control plane of this JVM's own, rather than a cluster KUBECONFIG names. */
  public boolean isOwn() {
    return dir != null;
  }

  /**
   * Facts about a control plane of this JVM's own, from the script's {@code DIR/env}: {@code
   * SERVER}, {@code PORT}, {@code CA_CERT}, {@code PKI} (the CA key is there too, to sign a
   * kubelet's certificate), {@code BIN} (kubectl and the other binaries), {@code LOGS}, {@code
   * SERVICE_CIDR}; empty in KUBECONFIG mode.
   */
  public Map<String, String> facts() {
    return facts;
  }

  /** The admin client, shared: do not close it. */
  public KubernetesClient client() {
    return client;
  }

  /** A new admin client with its own connections (for a component under test); close it. */
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(adminConfig).build();
  }

  /** The admin kubeconfig, for kubectl, helm or a program under test. */
  public Path kubeconfigFile() {
    return kubeconfig;
  }

  /**
   * A copy of the admin kubeconfig whose server is {@code https://<host>:<port>}, for a client that
   * reaches this machine's loopback by another address: {@value #QEMU_USER_NET_HOST} from a QEMU
   * user-net guest (the nested-KVM harness's {@code run-in-l1.sh --net}), {@code 10.244.0.1} from a
   * pod behind a forwarder on the pod bridge. The serving certificate names both.
   *
   * @throws TestClusterException in KUBECONFIG mode (the cluster is not this machine's)
   */
  public Path kubeconfigFileFor(String host) {
    if (dir == null) {
      throw new TestClusterException(
          "kubeconfigFileFor(" + host + "): KUBECONFIG mode, the cluster is not on this machine");
    }
    String local = "server: " + facts.get("SERVER");
    Path copy = dir.resolve("kubeconfig-" + host.replaceAll("[^A-Za-z0-9.-]", "_"));
    try {
      String text = Files.readString(kubeconfig);
      if (!text.contains(local)) {
        throw new TestClusterException("no '" + local + "' in " + kubeconfig);
      }
      Files.writeString(
          copy, text.replace(local, "server: https://" + host + ":" + facts.get("PORT")));
    } catch (IOException e) {
      throw new TestClusterException("cannot write " + copy, e);
    }
    return copy;
  }

  /**
   * A new client that acts as ServiceAccount {@code serviceAccount} of {@code namespace}, with a
   * token freshly minted through the TokenRequest API, exactly as a pod of that account would; its
   * default namespace is {@code namespace}. The account must exist. Close the client.
   */
  public KubernetesClient clientAs(String namespace, String serviceAccount) {
    String token;
    try {
      token =
          client
              .serviceAccounts()
              .inNamespace(namespace)
              .withName(serviceAccount)
              .tokenRequest(
                  new TokenRequestBuilder()
                      .withNewSpec()
                      .withExpirationSeconds(TOKEN_SECONDS)
                      .endSpec()
                      .build())
              .getStatus()
              .getToken();
    } catch (RuntimeException e) {
      throw new TestClusterException(
          "cannot mint a token for ServiceAccount " + namespace + "/" + serviceAccount, e);
    }
    return clientWithToken(token, namespace);
  }

  /**
   * A client that authenticates with {@code token} alone (for example one minted with a bound
   * object), reaching and trusting the server as the admin client does; close it.
   */
  public KubernetesClient clientWithToken(String token, String namespace) {
    // Only the server and how to trust it come from the admin config; no admin credential.
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(adminConfig.getMasterUrl())
            .withCaCertData(adminConfig.getCaCertData())
            .withCaCertFile(adminConfig.getCaCertFile())
            .withTrustCerts(adminConfig.isTrustCerts())
            .withDisableHostnameVerification(adminConfig.isDisableHostnameVerification())
            .withNamespace(namespace)
            .withOauthToken(token)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /**
   * Creates a namespace with a fresh name, {@code prefix} (made a valid name) followed by a random
   * suffix, labelled {@value #CREATED_BY_LABEL}=hearth-testkit; returns its name.
   */
  public String createNamespace(String prefix) {
    String base = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
    base = base.replaceAll("^-+|-+$", "");
    if (base.length() > 50) {
      base = base.substring(0, 50).replaceAll("-+$", "");
    }
    String name = (base.isEmpty() ? "test" : base) + "-" + randomSuffix();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels(CREATED_BY_LABEL, FIELD_MANAGER)
                .endMetadata()
                .build())
        .create();
    return name;
  }

  /**
   * Applies every CustomResourceDefinition in {@code folder} ({@code *.yml} and {@code *.yaml}, one
   * per file) with server-side apply, then waits until each is Established, so that its resources
   * can be used at once. Returns their names, in file order.
   *
   * @throws TestClusterException when a file cannot be read or applied, or a CRD is not Established
   *     within a minute
   */
  public List<String> installCrds(Path folder) {
    return CrdInstaller.install(client, folder, FIELD_MANAGER);
  }

  /**
   * Stops a control plane of this JVM's own (only the processes its script started) and removes its
   * folder; in KUBECONFIG mode, only closes the admin client.
   */
  @Override
  public synchronized void close() {
    client.close();
    if (dir == null) {
      return;
    }
    ControlPlaneScript.Result result = script.stop(dir);
    if (result.exitCode() != 0) {
      System.err.println("hearth-testkit: stopping the control plane in " + dir + ": " + result);
      return; // keep the folder: its logs and pids are what is left to look into
    }
    deleteTree(dir);
  }

  /**
   * The kubeconfig file KUBECONFIG mode uses: the {@code kubeconfig} system property (which fabric8
   * reads first), else the first file of the {@code KUBECONFIG} environment variable.
   */
  static Optional<Path> kubeconfigNamed() {
    for (String value :
        new String[] {System.getProperty("kubeconfig"), System.getenv("KUBECONFIG")}) {
      if (value != null && !value.isBlank()) {
        return Optional.of(Path.of(value.split(File.pathSeparator)[0]));
      }
    }
    return Optional.empty();
  }

  private static String lastLine(String output) {
    String[] lines = output.strip().split("\n");
    return lines[lines.length - 1];
  }

  private static String randomSuffix() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      s.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return s.toString();
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("hearth-testkit: could not remove " + dir + ": " + e);
    }
  }
}
