package dev.hearth.agent.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.image.PullSecrets;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.testing.TestImageCaches;
import dev.hearth.api.v1alpha1.ContainerSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A container VM's config and root disk come from one image, against a real registry whose tag
 * moves between the two pulls of a launch.
 */
class ContainerImagePinTest {
  private static final SpecMapper MAPPER =
      new SpecMapper(
          new VmRuntime.Capabilities(4, true, true, 3, 2),
          new ContainerBoot("boot/k", "boot/i.cpio.gz"));
  private static Registry registry;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    registry = Registry.startPublic();
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  private OciLayout image(String name) {
    return OciLayout.write(
        dir.resolve("layout-" + name),
        "latest",
        List.of(new OciLayout.Layer().file("etc/marker", name + "\n", 0644, 0, 0)),
        List.of("/bin/" + name),
        List.of(),
        List.of("PATH=/bin"),
        "/",
        "0");
  }

  @Test
  void aTagMovedBetweenTheConfigAndTheRootDiskPullsDoesNotMixTwoImages() throws Exception {
    String first = registry.push(image("first"), "hearth/pinned", "v1");
    OciLayout second = image("second");
    ImageCache cache =
        TestImageCaches.forRegistry(
            dir.resolve("cache"), dir.resolve("images"), registry, new SimpleMeterRegistry());
    Files.createDirectories(dir.resolve("images/boot"));
    Files.writeString(dir.resolve("images/boot/k"), "kernel");
    Files.write(dir.resolve("images/boot/i.cpio.gz"), new byte[] {9, 9, 9});
    PlanImages images =
        new PlanImages() {
          @Override
          public Path resolve(String field, ImageRef source) throws ImageException {
            Path p = cache.resolve(source, "vm", PullSecrets.NONE);
            if (source instanceof ImageRef.OciConfig) {
              registry.push(second, "hearth/pinned", "v1"); // the tag moves now
            }
            return p;
          }

          @Override
          public ImageReference pin(String field, ImageRef.OciConfig image) throws ImageException {
            return cache.pin(image.reference(), image.pullSecrets(), PullSecrets.NONE);
          }
        };
    MicroVMSpec spec = new MicroVMSpec();
    spec.setContainer(new ContainerSpec(registry.host() + "/hearth/pinned:v1"));
    Path disks = dir.resolve("vms/uid/disks");

    LaunchImages launch = LaunchImages.prepare(MAPPER.map(spec), images, disks);

    assertThat(cat(launch.disks().getFirst().path(), "/etc/marker")).isEqualTo("first\n");
    byte[] initrd = Files.readAllBytes(launch.initrd().orElseThrow());
    assertThat(new String(initrd, StandardCharsets.ISO_8859_1))
        .contains("/bin/first")
        .doesNotContain("/bin/second");
    // The status and Events name the image by the digest both pulls used.
    assertThat(launch.containerImage().orElseThrow().digest()).contains(first);
  }

  private static String cat(Path image, String file) throws Exception {
    Process p =
        new ProcessBuilder("debugfs", "-R", "cat " + file, image.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
