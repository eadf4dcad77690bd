package dev.hearth.e2e.system;

import dev.hearth.agent.testing.SharedApiServer;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The API server a scenario runs against: the cluster {@code KUBECONFIG} names when it is set, else
 * a fabric8 mock server in CRUD mode on loopback (no schema, no CEL, no server-side apply: see
 * {@link Admission} for the checks a real server makes).
 */
final class ApiServer implements AutoCloseable {
  // The mock server logs every request at INFO; a scenario makes thousands. Held so it stays set.
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  private final KubernetesMockServer mock;
  private final KubernetesClient client;

  private ApiServer(KubernetesMockServer mock, KubernetesClient client) {
    this.mock = mock;
    this.client = client;
  }

  static ApiServer start() {
    if (kubeconfigNamed()) {
      // fabric8 reads the file itself, as kubectl would: current context, server, credentials.
      return new ApiServer(null, new KubernetesClientBuilder().build());
    }
    KubernetesMockServer server = SharedApiServer.startCrudServer();
    return new ApiServer(server, server.createClient());
  }

  /**
   * Whether a cluster is named: the {@code KUBECONFIG} environment variable, or the {@code
   * kubeconfig} system property that fabric8 reads before it (and that a test can set).
   */
  static boolean kubeconfigNamed() {
    for (String value :
        new String[] {System.getProperty("kubeconfig"), System.getenv("KUBECONFIG")}) {
      if (value != null && !value.isBlank()) {
        return true;
      }
    }
    return false;
  }

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger log = java.util.logging.Logger.getLogger(name);
    log.setLevel(java.util.logging.Level.WARNING);
    return log;
  }

  boolean isMock() {
    return mock != null;
  }

  /** The administrator's connection: what the test applies and reads through. */
  KubernetesClient client() {
    return client;
  }

  /**
   * A connection of its own for one component, so that cutting it (an agent "killed") leaves the
   * others working.
   */
  KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(client.getConfiguration()).build();
  }

  /** Applies the generated CRDs of {@code crds/yaml}, as the chart does. */
  void installCrds(Path crdDir) {
    List<Path> files;
    try (Stream<Path> list = Files.list(crdDir)) {
      files = list.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the CRDs in " + crdDir, e);
    }
    if (files.size() != 3) {
      throw new IllegalStateException(
          "expected the 3 Hearth CRDs in " + crdDir + ", found " + files);
    }
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        CustomResourceDefinition crd =
            client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .resource(crd)
            .createOr(r -> r.update());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
  }

  /** Creates {@code name} unless it exists (a real cluster needs it; the mock server does not). */
  void ensureNamespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .createOr(r -> r.update());
  }

  @Override
  public void close() {
    client.close();
    if (mock != null) {
      mock.destroy();
    }
  }
}
