package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.RestartPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestReaderTest {
  private static final ManifestReader READER = new ManifestReader();

  @TempDir Path dir;

  private Path manifest(String spec) throws Exception {
    Path file = dir.resolve("vm.yaml");
    Files.writeString(
        file,
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata:
          name: t
          labels: {app: demo}
        spec:
        """
            + spec.indent(2));
    return file;
  }

  private String errorFor(String spec) throws Exception {
    Path file = manifest(spec);
    return assertThatThrownBy(() -> READER.read(file))
        .isInstanceOf(ManifestException.class)
        .actual()
        .getMessage()
        .substring(file.toString().length() + 2);
  }

  @Test
  void readsAValidManifestWithDefaultsAndKeepsImagePathsRelativeToTheImagesRoot() throws Exception {
    MicroVM vm =
        READER.read(
            manifest(
                """
                kernel:
                  source: {path: guests/hello.elf}
                  cmdline: console=ttyS0
                """));
    assertThat(vm.getMetadata().getName()).isEqualTo("t");
    assertThat(vm.getSpec().getVcpus()).isEqualTo(1);
    assertThat(vm.getSpec().getMemoryMiB()).isEqualTo(128);
    assertThat(vm.getSpec().getKernel().getSource().getPath()).isEqualTo("guests/hello.elf");
  }

  @Test
  void namesTheFieldAndTheProblem() throws Exception {
    String kernel = "kernel: {source: {path: k}}\n";
    // In the API server's own words, as kubectl apply would print them.
    assertThat(errorFor(kernel + "vcpus: 64"))
        .isEqualTo(
            "spec.vcpus: Invalid value: 64: spec.vcpus in body should be less than or equal to 32");
    assertThat(errorFor(kernel + "vcpus: 0"))
        .isEqualTo(
            "spec.vcpus: Invalid value: 0: spec.vcpus in body should be greater than or equal to 1");
    assertThat(errorFor(kernel + "memoryMiB: 8"))
        .isEqualTo(
            "spec.memoryMiB: Invalid value: 8: spec.memoryMiB in body should be greater than or"
                + " equal to 16");
    // spec.kernel may be left out for spec.container, so a CEL rule (not the schema) requires it.
    assertThat(errorFor("vcpus: 1"))
        .isEqualTo(
            "spec.kernel: Invalid value: \"object\": spec.kernel is required, unless"
                + " spec.container names an image (the node then boots its own kernel)");
    assertThat(errorFor(kernel + "vcpu: 2")).isEqualTo("spec.vcpu: unknown field");
    // A wrong type: the server then leaves the CEL rules unchecked, and says so (the one more).
    assertThat(errorFor(kernel + "memoryMiB: lots"))
        .isEqualTo(
            "spec.memoryMiB: Invalid value: \"string\": spec.memoryMiB in body must be of type"
                + " integer: \"string\" (and 1 more)");
    assertThat(errorFor(kernel + "restartPolicy: Sometimes"))
        .isEqualTo(
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\","
                + " \"Never\", \"OnFailure\" (and 1 more)");
    assertThat(errorFor(kernel + "vcpus: 0\nmemoryMiB: 1"))
        .isEqualTo(
            "spec.vcpus: Invalid value: 0: spec.vcpus in body should be greater than or equal to 1"
                + " (and 1 more)");
  }

  @Test
  void refusesWhatTheClusterRefuses() throws Exception {
    String kernel = "kernel: {source: {path: k}}\n";
    // CEL rules of the CRD, which the schema alone lets through.
    assertThat(
            errorFor(
                kernel + "rootfs: {source: {path: r}, rateLimiter: {bandwidth: {size: 1048576}}}"))
        .startsWith("spec.rootfs.rateLimiter.bandwidth: ");
    assertThat(errorFor("kernel: {source: {path: /etc/passwd}}"))
        .isEqualTo(
            "spec.kernel.source.path: Invalid value: \"string\": must be relative to the node's"
                + " images root, without a leading '/'");
    // What the API server checks in every resource's metadata.
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(
        bad,
        "apiVersion: hearth.dev/v1alpha1\nkind: MicroVM\nmetadata: {name: Bad_Name}\nspec:\n  "
            + kernel);
    assertThatThrownBy(() -> READER.read(bad))
        .hasMessageStartingWith(
            bad + ": metadata.name: \"Bad_Name\" is not a lowercase RFC 1123 subdomain");
  }

  @Test
  void rejectsOtherKindsAndBrokenYaml() throws Exception {
    Path pod = dir.resolve("pod.yaml");
    Files.writeString(pod, "apiVersion: v1\nkind: Pod\n");
    assertThatThrownBy(() -> READER.read(pod))
        .hasMessage(pod + ": apiVersion: expected hearth.dev/v1alpha1, found v1");
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "spec: [unclosed\n");
    assertThatThrownBy(() -> READER.read(broken))
        .hasMessageStartingWith(broken + ": not valid YAML");
    assertThatThrownBy(() -> READER.read(dir.resolve("none.yaml")))
        .hasMessageEndingWith("none.yaml: no such manifest file");
  }

  @Test
  void aMicroVmSetRunsAsOneReplicaOfItsTemplateAndSaysSo() throws Exception {
    String set =
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVMSet
        metadata: {name: web}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              kernel: {source: {path: guests/hello.elf}}
              restartPolicy: OnFailure
        """;
    Path file = Files.writeString(dir.resolve("set.yaml"), set);
    ManifestReader.LocalVm local = READER.readVm(file);
    assertThat(local.vm().getMetadata().getName()).isEqualTo("web-0");
    assertThat(local.vm().getMetadata().getLabels()).containsEntry("app", "web");
    assertThat(local.vm().getSpec().getKernel().getSource().getPath())
        .isEqualTo("guests/hello.elf");
    assertThat(local.vm().getSpec().restartPolicyOrDefault()).isEqualTo(RestartPolicy.OnFailure);
    assertThat(local.note())
        .contains(
            "MicroVMSet web asks for 3 replica(s); hearth run boots one, web-0, from its template");

    // The set's own rules apply: its template is checked as the cluster checks it.
    Path bad =
        Files.writeString(
            dir.resolve("bad-set.yaml"),
            set.replace("replicas: 3", "replicas: 3\n  minReadySeconds: x"));
    assertThatThrownBy(() -> READER.readVm(bad)).isInstanceOf(ManifestException.class);
    Path vm = manifest("kernel: {source: {path: k}}");
    assertThat(READER.readVm(vm).note()).isEmpty();
    assertThat(READER.readVm(vm).vm().getMetadata().getName()).isEqualTo("t");
  }
}
