package dev.hearth.e2e.kind;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.e2e.ProjectRoot;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * e2e/kind/ cannot run here (no Docker engine), so this checks what can be checked without one: the
 * cluster config gives every worker the devices, the examples can be placed on its nodes, and up.sh
 * builds the images under the names the chart pulls.
 */
class KindConfigTest {
  private static final Path ROOT = ProjectRoot.find();
  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  @Test
  void everyWorkerSeesKvmAndTun() throws IOException {
    List<Map<String, Object>> workers = workers();
    assertThat(workers).isNotEmpty();
    for (Map<String, Object> worker : workers) {
      assertThat(list(worker.get("extraMounts")))
          .as("extraMounts of %s", worker)
          .contains(
              (Object) Map.of("hostPath", "/dev/kvm", "containerPath", "/dev/kvm"),
              (Object) Map.of("hostPath", "/dev/net/tun", "containerPath", "/dev/net/tun"));
    }
  }

  @Test
  void theMicroVmSetExampleFitsTheWorkersLabels() throws IOException {
    GenericKubernetesResource set = read(ROOT.resolve("examples/microvmset.yaml"));
    Map<String, Object> vmSpec =
        map(map(map(set.getAdditionalProperties().get("spec")).get("template")).get("spec"));
    Map<String, Object> selector = map(vmSpec.get("nodeSelector"));
    assertThat(workers())
        .allSatisfy(w -> assertThat(map(w.get("labels"))).containsAllEntriesOf(selector));
  }

  @Test
  void upBuildsTheImagesTheChartPulls() throws IOException {
    String up = Files.readString(ROOT.resolve("e2e/kind/up.sh"));
    String values = Files.readString(ROOT.resolve("helm/hearth/values.yaml"));
    for (String component : List.of("operator", "agent")) {
      String image = "hearth/" + component;
      assertThat(values).contains("repository: " + image);
      assertThat(up).contains(component + "_image=\"" + image + ":$version\"");
      assertThat(up).contains("docker/" + component + ".Dockerfile");
      assertThat(ROOT.resolve("docker/" + component + ".Dockerfile")).isRegularFile();
    }
    assertThat(up).contains("appVersion").contains("kind load docker-image");
  }

  @Test
  void upCopiesHelloToTheImagePathHelloYamlNames() throws Exception {
    String up = Files.readString(ROOT.resolve("e2e/kind/up.sh"));
    assertThat(Files.readString(ROOT.resolve("examples/hello.yaml"))).contains("path: hello.elf");
    assertThat(up).contains("\"$hello\" \"$node:/var/lib/hearth/images/hello.elf\"");
  }

  private static List<Map<String, Object>> workers() throws IOException {
    GenericKubernetesResource cluster = read(ROOT.resolve("e2e/kind/cluster.yaml"));
    assertThat(cluster.getApiVersion()).isEqualTo("kind.x-k8s.io/v1alpha4");
    assertThat(cluster.getKind()).isEqualTo("Cluster");
    return list(cluster.getAdditionalProperties().get("nodes")).stream()
        .map(KindConfigTest::map)
        .filter(n -> "worker".equals(n.get("role")))
        .toList();
  }

  private static GenericKubernetesResource read(Path file) throws IOException {
    return (GenericKubernetesResource) YAML.unmarshal(Files.readString(file));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }
}
