package dev.hearth.e2e.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.vmm.testing.BuiltGuests;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/** Builds the MicroVMs the scenarios apply, and reads the manifests of {@code examples/}. */
final class Manifests {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Manifests() {}

  /** A MicroVM of 1 vCPU and 16 MiB booting {@code kernel}, then changed by {@code customize}. */
  static MicroVM vm(
      String namespace, String name, ImageSource kernel, UnaryOperator<MicroVMSpec> customize) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setVcpus(1);
    spec.setMemoryMiB(16);
    spec.setKernel(new KernelSpec(kernel));
    MicroVM vm = new MicroVM();
    vm.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    vm.setSpec(customize.apply(spec));
    return vm;
  }

  static MicroVMSpec withEth0(MicroVMSpec spec) {
    spec.setNetwork(new ArrayList<>(List.of(new NetworkInterfaceSpec("eth0"))));
    return spec;
  }

  static MicroVMSpec never(MicroVMSpec spec) {
    spec.setRestartPolicy(RestartPolicy.Never);
    return spec;
  }

  /** A test guest the vmm module's test build compiles ({@code vmm/target/guests}). */
  static Path guest(String name) {
    Path p = BuiltGuests.elf(name).toAbsolutePath().normalize();
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(
          "no test guest "
              + p
              + ": the vmm module's test build makes it (./mvnw -pl vmm test-compile)");
    }
    return p;
  }

  /** One manifest of {@code examples/}: its file, and the object, ready to apply. */
  record Example(Path file, HasMetadata object) {
    String name() {
      return object.getMetadata().getName();
    }
  }

  /**
   * Every manifest in {@code dir} but those with a {@code spec.container} (their image comes from a
   * registry), in {@code namespace}. Image paths are mapped as a user would adapt them to a node: a
   * relative path is resolved against the examples folder (as {@code hearth run} does), the node
   * directory {@code /var/lib/hearth/images/} becomes {@code nodeImages}, and {@code
   * vmm/target/linux-guest/}, where {@code ./hearth} links the Linux test guest, becomes {@code
   * linuxGuest} when given.
   */
  static List<Example> examples(Path dir, String namespace, Path nodeImages, Path linuxGuest)
      throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    List<Example> out = new ArrayList<>();
    for (Path f : files) {
      JsonNode doc = YAML.readTree(f.toFile());
      ObjectNode metadata = (ObjectNode) doc.path("metadata");
      metadata.put("namespace", namespace);
      JsonNode spec =
          doc.path("kind").asText().equals("MicroVMSet")
              ? doc.path("spec").path("template").path("spec")
              : doc.path("spec");
      if (spec.has("container")) {
        continue; // pulls from a registry: ContainerEntrypointKvmIT runs such a VM
      }
      mapPath(spec.path("kernel").path("source"), dir, nodeImages, linuxGuest);
      mapPath(spec.path("initrd"), dir, nodeImages, linuxGuest);
      mapPath(spec.path("rootfs").path("source"), dir, nodeImages, linuxGuest);
      spec.path("drives").forEach(d -> mapPath(d.path("source"), dir, nodeImages, linuxGuest));
      Class<? extends HasMetadata> type =
          switch (doc.path("kind").asText()) {
            case "MicroVM" -> MicroVM.class;
            case "MicroVMSet" -> MicroVMSet.class;
            default -> throw new IllegalStateException(f + ": not a MicroVM or MicroVMSet");
          };
      out.add(new Example(f, new KubernetesSerialization().convertValue(doc, type)));
    }
    return out;
  }

  /**
   * The image paths the examples name (relative to a node's images root: {@code hello.elf}, {@code
   * linux/vmlinux}).
   */
  static List<String> nodeImageNames(Path dir) throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path f : list.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        var m =
            java.util.regex.Pattern.compile("(?m)^\\s*path:\\s*([A-Za-z0-9._/-]+)\\s*$")
                .matcher(Files.readString(f));
        while (m.find()) {
          if (!names.contains(m.group(1))) {
            names.add(m.group(1));
          }
        }
      }
    }
    return names;
  }

  /** {@code file}'s image path under the suites' agent images root, "/". */
  static String underRoot(Path file) {
    return Path.of("/").relativize(file.toAbsolutePath().normalize()).toString();
  }

  /**
   * An example's image path (relative to a node's images root) as the file the suite provides:
   * {@code linux/<name>} from the Linux guest when given, anything else under {@code nodeImages}.
   */
  private static void mapPath(JsonNode source, Path examples, Path nodeImages, Path linuxGuest) {
    if (source instanceof ObjectNode s && s.path("path").isTextual()) {
      String p = s.get("path").asText();
      Path file =
          p.startsWith("linux/") && linuxGuest != null
              ? linuxGuest.resolve(p.substring("linux/".length()))
              : nodeImages.resolve(p);
      s.put("path", underRoot(file));
    }
  }
}
