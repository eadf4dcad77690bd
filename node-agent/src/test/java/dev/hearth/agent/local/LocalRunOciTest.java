package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.image.AuthFilePullSecrets;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.PullSecrets;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.agent.testing.TestImageCaches;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import dev.hearth.vmm.config.SeccompMode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hearth run}'s path for a manifest with OCI sources: the manifest read and mapped as the
 * agent maps it, the kernel and root disk pulled from a real private registry with the credentials
 * of a registry auth file, before KVM is asked anything.
 */
class LocalRunOciTest {
  @TempDir Path dir;

  @Test
  void aManifestsOciKernelAndRootDiskArePulledIntoTheLocalCache() throws Exception {
    try (Registry registry = Registry.startPrivate("carol", "pw")) {
      registry.push(
          OciLayout.write(
              dir.resolve("layout"),
              "latest",
              List.of(
                  new OciLayout.Layer()
                      .file("boot/vmlinux", "\u007fELF", 0644, 0, 0)
                      .file("etc/hostname", "from-oci\n", 0644, 0, 0)),
              List.of("/bin/sh"),
              List.of(),
              List.of(),
              null,
              null),
          "vms/guest",
          "v1");
      Path manifest =
          Files.writeString(
              dir.resolve("vm.yaml"),
              """
              apiVersion: hearth.dev/v1alpha1
              kind: MicroVM
              metadata:
                name: oci-vm
              spec:
                memoryMiB: 64
                kernel:
                  source:
                    oci:
                      image: %1$s/vms/guest:v1
                      path: boot/vmlinux
                rootfs:
                  source:
                    oci:
                      image: %1$s/vms/guest:v1
                imagePullSecrets:
                - name: regcred
              """
                  .formatted(registry.host()));
      Path auth =
          Files.writeString(
              dir.resolve("auth.json"),
              "{\"auths\":{\""
                  + registry.host()
                  + "\":{\"auth\":\""
                  + Base64.getEncoder().encodeToString("carol:pw".getBytes(StandardCharsets.UTF_8))
                  + "\"}}}");
      MicroVM vm = new ManifestReader().readVm(manifest).vm();
      VmPlan plan = new SpecMapper(new VmmRuntime().capabilities()).map(vm.getSpec());
      ImageCache cache =
          TestImageCaches.forRegistry(
              dir.resolve("cache"), dir.resolve("images"), registry, new SimpleMeterRegistry());
      Path kvm = Files.writeString(dir.resolve("kvm"), "");
      List<Path> kernels = new ArrayList<>();
      ByteArrayOutputStream status = new ByteArrayOutputStream();
      LocalRunner runner =
          new LocalRunner(
              cache,
              kvm,
              kernel -> {
                kernels.add(kernel);
                return Optional.of("stopping the test here");
              },
              () -> {
                throw new HostUnavailableException("no network in this test");
              },
              new PrintStream(status, true, StandardCharsets.UTF_8),
              SeccompMode.ENFORCE,
              new AuthFilePullSecrets(Optional.of(auth)));
      assertThatThrownBy(
              () -> runner.run("oci-vm", plan, vm.getSpec().restartPolicyOrDefault(), status))
          .isInstanceOf(KvmCannotRunGuestException.class);
      assertThat(kernels).hasSize(1);
      assertThat(Files.readString(kernels.get(0), StandardCharsets.ISO_8859_1))
          .isEqualTo("\u007fELF");
      assertThat(status.toString(StandardCharsets.UTF_8))
          .contains("hearth: pulling " + registry.host() + "/vms/guest:v1, file boot/vmlinux")
          .contains("hearth: pulling " + registry.host() + "/vms/guest:v1 (cached by digest)");
      // Both the root disk and the kernel stay in the cache for the next run.
      assertThat(cache.sizeBytes()).isGreaterThan(1L << 20);

      // Without the auth file the private registry refuses, and the message names the field.
      LocalRunner anonymous =
          new LocalRunner(
              TestImageCaches.forRegistry(
                  dir.resolve("cache2"),
                  dir.resolve("images"),
                  registry,
                  new SimpleMeterRegistry()),
              kvm,
              kernel -> Optional.empty(),
              () -> {
                throw new HostUnavailableException("no network in this test");
              },
              new PrintStream(new ByteArrayOutputStream()),
              SeccompMode.ENFORCE,
              PullSecrets.NONE);
      assertThatThrownBy(
              () -> anonymous.run("oci-vm", plan, vm.getSpec().restartPolicyOrDefault(), status))
          .hasMessageContaining("spec.kernel.source")
          .hasMessageContaining("the registry refused an anonymous pull");
    }
  }
}
