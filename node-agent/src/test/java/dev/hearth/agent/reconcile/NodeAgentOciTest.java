package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.image.OciSettings;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.OciImageSource;
import dev.hearth.api.v1alpha1.PullSecretReference;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's reconcile loop with OCI root disks: the real API server with the chart's agent token
 * (default values: no Secrets), real registries on loopback, a fake VM runtime.
 */
class NodeAgentOciTest {
  @TempDir Path state;
  private String ns;
  private NodeAgent agent;
  private KubernetesClient agentClient;
  private final FakeVmRuntime runtime = new FakeVmRuntime();

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
      agentClient.close();
      SharedApiServer.deleteNamespace(ns);
    }
  }

  @Test
  void aPublicImageBecomesTheRootDiskAndAPrivateOneNeedsTheChartsOptIn() throws Exception {
    KubernetesClient client = SharedApiServer.client();
    ns = SharedApiServer.createNamespace("agent-oci");
    String node = "node-" + ns;
    try (Registry open = Registry.startPublic();
        Registry closed = Registry.startPrivate("dave", "pw")) {
      OciLayout layout =
          OciLayout.write(
              state.resolve("layout"),
              "latest",
              List.of(new OciLayout.Layer().file("etc/marker", "agent\n", 0644, 0, 0)),
              List.of(),
              List.of(),
              List.of(),
              null,
              null);
      open.push(layout, "team/app", "v1");
      closed.push(layout, "team/app", "v1");
      Files.writeString(state.resolve("vmlinux"), "kernel");
      agentClient = SharedApiServer.agentClient();
      agent =
          new NodeAgent(
              TestAgentContext.of(node, agentClient, state)
                  .runtime(runtime)
                  .guestCidr("10.89.0.0/24")
                  .images(
                      new ImageCache(
                          state.resolve("cache"),
                          new NodeImages(state),
                          1L << 30,
                          ImageCache.Timeouts.DEFAULT,
                          Destinations.ANY, // the registries are on loopback
                          OciSettings.DEFAULT.withPlainHttp(Set.of(open.host(), closed.host())),
                          new SimpleMeterRegistry()))
                  .build());
      agent.start(Duration.ofSeconds(20));

      create(client, node, "public", open.host() + "/team/app:v1", List.of());
      await()
          .atMost(60, TimeUnit.SECONDS)
          .until(() -> phase(client, "public") == MicroVMPhase.Running);
      Path root = runtime.last().launch.disks().getFirst().path();
      Process cat =
          new ProcessBuilder("debugfs", "-R", "cat /etc/marker", root.toString())
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      assertThat(new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("agent\n");
      assertThat(reasons(client, "public")).contains("Pulling", "Pulled");

      // The chart grants no Secrets by default: the VM fails, saying which value to set.
      create(client, node, "private", closed.host() + "/team/app:v1", List.of("regcred"));
      Condition[] ready = new Condition[1];
      await()
          .atMost(60, TimeUnit.SECONDS)
          .until(
              () -> {
                MicroVM vm = get(client, "private");
                ready[0] =
                    vm.getStatus() == null ? null : vm.getStatus().condition("Ready").orElse(null);
                return ready[0] != null && "ImagePullSecretUnusable".equals(ready[0].getReason());
              });
      assertThat(ready[0].getMessage()).contains("agent.images.pullSecrets");
    }
  }

  private void create(
      KubernetesClient client, String node, String name, String image, List<String> secrets) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    spec.setRootfs(new RootfsSpec(ImageSource.ofOci(new OciImageSource(image))));
    spec.setImagePullSecrets(secrets.stream().map(PullSecretReference::new).toList());
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    vm.setSpec(spec);
    client.resource(vm).create();
  }

  private MicroVM get(KubernetesClient client, String name) {
    return client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
  }

  private MicroVMPhase phase(KubernetesClient client, String name) {
    MicroVM vm = get(client, name);
    return vm.getStatus() == null ? null : vm.getStatus().getPhase();
  }

  private List<String> reasons(KubernetesClient client, String vm) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> vm.equals(e.getInvolvedObject().getName()))
        .map(e -> e.getReason())
        .toList();
  }
}
