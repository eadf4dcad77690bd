package dev.hearth.e2e.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.e2e.ProjectRoot;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The manifests in examples/ use only fields of the MicroVM spec contract (issue 5), so a typo such
 * as memoryMib is caught here. Whether the API server accepts them, and whether they boot, is for
 * the CRD schema tests and the e2e suite, which applies every example.
 */
class ExamplesTest {
  private static final Path EXAMPLES = ProjectRoot.find().resolve("examples");

  private static final Set<String> MICROVM_SPEC =
      Set.of(
          "vcpus",
          "memoryMiB",
          "kernel",
          "initrd",
          "rootfs",
          "drives",
          "network",
          "vsock",
          "nodeName",
          "nodeSelector",
          "tolerations",
          "restartPolicy");
  private static final Set<String> SOURCE = Set.of("path", "url", "sha256");
  private static final Set<String> DISK =
      Set.of("name", "source", "readOnly", "serial", "rateLimiter");
  private static final Set<String> INTERFACE =
      Set.of("name", "macAddress", "rxRateLimiter", "txRateLimiter");
  private static final Set<String> RATE_LIMITER = Set.of("bandwidth", "ops");
  private static final Set<String> BUCKET = Set.of("size", "refillTimeMs", "oneTimeBurst");

  @Test
  void everyExampleIsAMicroVmOrSetWithKnownFieldsOnly() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(EXAMPLES)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .contains(
            "hello.yaml",
            "vm-with-disk-and-network.yaml",
            "rate-limited-vm.yaml",
            "microvmset.yaml");
    KubernetesSerialization yaml = new KubernetesSerialization();
    for (Path file : files) {
      HasMetadata object = yaml.unmarshal(Files.readString(file));
      assertThat(object.getApiVersion()).as(file.toString()).isEqualTo("hearth.dev/v1alpha1");
      assertThat(object.getKind()).as(file.toString()).isIn("MicroVM", "MicroVMSet");
      Map<String, Object> spec =
          map(((GenericKubernetesResource) object).getAdditionalProperties().get("spec"));
      if (object.getKind().equals("MicroVMSet")) {
        assertThat(spec).as(file.toString()).containsOnlyKeys("replicas", "selector", "template");
        Map<String, Object> template = map(spec.get("template"));
        assertThat(map(map(template.get("metadata")).get("labels")))
            .as("%s: the template's labels match the selector", file)
            .containsAllEntriesOf(
                map(map(spec.get("selector")).get("matchLabels")).entrySet().stream()
                    .collect(
                        java.util.stream.Collectors.toMap(
                            Map.Entry::getKey, e -> (Object) e.getValue())));
        spec = map(template.get("spec"));
      }
      checkMicroVmSpec(file, spec);
    }
  }

  private static void checkMicroVmSpec(Path file, Map<String, Object> spec) {
    String where = file.getFileName().toString();
    assertThat(MICROVM_SPEC).as("%s: spec fields", where).containsAll(spec.keySet());
    assertThat(spec).as(where).containsKeys("vcpus", "memoryMiB", "kernel");
    Map<String, Object> kernel = map(spec.get("kernel"));
    assertThat(Set.of("source", "cmdline")).as("%s: kernel", where).containsAll(kernel.keySet());
    assertThat(SOURCE)
        .as("%s: kernel.source", where)
        .containsAll(map(kernel.get("source")).keySet());
    if (spec.containsKey("rootfs")) {
      checkDisk(where + ": rootfs", map(spec.get("rootfs")));
    }
    for (Object drive : list(spec.get("drives"))) {
      checkDisk(where + ": drive", map(drive));
      assertThat(map(drive)).as(where).containsKey("name");
    }
    for (Object nic : list(spec.get("network"))) {
      Map<String, Object> n = map(nic);
      assertThat(INTERFACE).as("%s: network interface", where).containsAll(n.keySet());
      checkRateLimiter(where + ": rxRateLimiter", n.get("rxRateLimiter"));
      checkRateLimiter(where + ": txRateLimiter", n.get("txRateLimiter"));
    }
    if (spec.containsKey("vsock")) {
      assertThat(map(spec.get("vsock"))).as(where).containsOnlyKeys("cid");
    }
    if (spec.containsKey("restartPolicy")) {
      assertThat(spec.get("restartPolicy")).as(where).isIn("Always", "OnFailure", "Never");
    }
  }

  private static void checkDisk(String where, Map<String, Object> disk) {
    assertThat(DISK).as(where).containsAll(disk.keySet());
    assertThat(SOURCE).as(where + ".source").containsAll(map(disk.get("source")).keySet());
    checkRateLimiter(where + ".rateLimiter", disk.get("rateLimiter"));
  }

  private static void checkRateLimiter(String where, Object limiter) {
    if (limiter == null) {
      return;
    }
    Map<String, Object> l = map(limiter);
    assertThat(RATE_LIMITER).as(where).containsAll(l.keySet());
    for (Object bucket : l.values()) {
      assertThat(BUCKET).as(where).containsAll(map(bucket).keySet());
      assertThat(map(bucket)).as(where).containsKeys("size", "refillTimeMs");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  private static List<?> list(Object o) {
    return o == null ? List.of() : (List<?>) o;
  }
}
