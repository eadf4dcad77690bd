package dev.hearth.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed CRDs ({@code crds/yaml}) on a real kube-apiserver, and every file in {@code
 * examples/} sent to it as {@code kubectl apply --server-side --dry-run=server} would: the server,
 * not a copy of its rules, says what it accepts.
 */
class ExamplesOnApiServerTest {
  private static ControlPlane plane;
  private static KubernetesClient client;

  @BeforeAll
  static void installCrds() {
    plane = ControlPlane.shared();
    client = plane.client();
    Path committed = Path.of(System.getProperty("hearth.crds.committed", "yaml"));
    assertThat(plane.installCrds(committed))
        .containsExactlyInAnyOrder(
            "microvmnodes.hearth.dev", "microvms.hearth.dev", "microvmsets.hearth.dev");
  }

  @Test
  void everyExampleMeetsTheServersSchemaAndRules() throws IOException {
    String ns = plane.createNamespace("examples");
    Map<String, String> outcomes = new LinkedHashMap<>(); // file -> "accepted" or the refusal
    for (Path file : exampleFiles()) {
      List<String> refusals = new ArrayList<>();
      for (GenericKubernetesResource doc : documents(file)) {
        try {
          client
              .resource(doc)
              .inNamespace(ns)
              .dryRun()
              .fieldManager("kubectl")
              .forceConflicts()
              .serverSideApply();
        } catch (KubernetesClientException e) {
          refusals.add(e.getCode() + " " + e.getStatus().getMessage());
        }
      }
      outcomes.put(
          file.getFileName().toString(),
          refusals.isEmpty() ? "accepted" : String.join("; ", refusals));
    }
    outcomes.forEach((file, outcome) -> System.out.println("examples/" + file + ": " + outcome));

    assertThat(outcomes).isNotEmpty();
    outcomes.forEach((file, outcome) -> assertThat(outcome).as(file).isEqualTo("accepted"));
  }

  @Test
  void theServerStillRefusesWhatTheSchemaForbids() {
    // A guard that the dry run above reaches admission at all: a plainly invalid MicroVM fails.
    String ns = plane.createNamespace("invalid");
    GenericKubernetesResource vm =
        Serialization.unmarshal(
            """
            apiVersion: hearth.dev/v1alpha1
            kind: MicroVM
            metadata: {name: no-memory}
            spec:
              vcpus: 0
              kernel: {source: {path: vmlinux}}
            """,
            GenericKubernetesResource.class);
    KubernetesClientException refused = null;
    try {
      client
          .resource(vm)
          .inNamespace(ns)
          .dryRun()
          .fieldManager("kubectl")
          .forceConflicts()
          .serverSideApply();
    } catch (KubernetesClientException e) {
      refused = e;
    }
    assertThat(refused).as("refusal").isNotNull();
    assertThat(refused.getCode()).isEqualTo(422);
    assertThat(refused.getStatus().getMessage()).contains("spec.vcpus");
  }

  private static List<Path> exampleFiles() throws IOException {
    Path examples = Path.of(System.getProperty("hearth.examples", "../examples"));
    try (Stream<Path> s = Files.list(examples)) {
      return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    }
  }

  /** The documents of a (possibly multi-document) YAML file, each as written. */
  private static List<GenericKubernetesResource> documents(Path file) throws IOException {
    List<GenericKubernetesResource> docs = new ArrayList<>();
    for (String text : Files.readString(file).split("(?m)^---\\s*$")) {
      GenericKubernetesResource doc =
          Serialization.unmarshal(text, GenericKubernetesResource.class);
      if (doc != null) {
        docs.add(doc);
      }
    }
    assertThat(docs).as(file + " documents").isNotEmpty();
    return docs;
  }
}
