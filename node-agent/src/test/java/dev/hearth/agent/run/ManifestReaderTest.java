package dev.hearth.agent.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.api.v1alpha1.MicroVM;
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
    assertThat(errorFor(kernel + "vcpus: 64")).isEqualTo("spec.vcpus: 64 is above the maximum 32");
    assertThat(errorFor(kernel + "vcpus: 0")).isEqualTo("spec.vcpus: 0 is below the minimum 1");
    assertThat(errorFor(kernel + "memoryMiB: 8"))
        .isEqualTo("spec.memoryMiB: 8 is below the minimum 16");
    assertThat(errorFor("vcpus: 1")).isEqualTo("spec.kernel: is required");
    assertThat(errorFor(kernel + "vcpu: 2")).isEqualTo("spec.vcpu: unknown field");
    assertThat(errorFor(kernel + "memoryMiB: lots"))
        .isEqualTo("spec.memoryMiB: must be an integer, not \"lots\"");
    assertThat(errorFor(kernel + "restartPolicy: Sometimes"))
        .isEqualTo("spec.restartPolicy: \"Sometimes\" is not one of Always, Never, OnFailure");
    assertThat(errorFor(kernel + "vcpus: 0\nmemoryMiB: 1"))
        .isEqualTo("spec.vcpus: 0 is below the minimum 1 (and 1 more)");
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
            "spec.kernel.source.path: must be relative to the node's images root, without a"
                + " leading '/'");
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
}
