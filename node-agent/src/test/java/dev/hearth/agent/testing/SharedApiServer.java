package dev.hearth.agent.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;

/**
 * One fabric8 mock API server (CRUD mode) for every test class in the JVM: it takes seconds to
 * start, so classes share it and keep apart by namespace and node name. It stops with the JVM.
 */
public final class SharedApiServer {
  private static KubernetesMockServer server;
  private static KubernetesClient client;

  private SharedApiServer() {}

  /** A fresh, started mock server of its own in CRUD mode, plain HTTP on loopback. */
  public static KubernetesMockServer startCrudServer() {
    KubernetesMockServer s =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    s.init();
    return s;
  }

  public static synchronized KubernetesClient client() {
    if (client == null) {
      server = startCrudServer();
      client = server.createClient();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    client.close();
                    server.destroy();
                  }));
    }
    return client;
  }
}
