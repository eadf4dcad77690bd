package dev.hearth.agent.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.runtime.VmLaunch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LaunchImagesTest {
  @TempDir Path dir;

  private VmPlan plan(boolean dataReadOnly) {
    ImageRef.NodeFile kernel = new ImageRef.NodeFile("vmlinux", Optional.empty());
    return new VmPlan(
        1,
        128,
        kernel,
        Optional.empty(),
        "",
        Optional.of(
            new VmPlan.DiskPlan(
                "rootfs",
                new ImageRef.NodeFile("root", Optional.empty()),
                false,
                Optional.empty())),
        List.of(
            new VmPlan.DiskPlan(
                "data",
                new ImageRef.NodeFile("data", Optional.empty()),
                dataReadOnly,
                Optional.empty())),
        List.of(),
        VmPlan.NetworkPolicyPlan.DEFAULT,
        OptionalLong.empty(),
        VmLaunch.Limits.NONE);
  }

  private final PlanImages images =
      new PlanImages() {
        @Override
        public Path resolve(String field, ImageRef source) {
          return dir.resolve(((ImageRef.NodeFile) source).path());
        }

        @Override
        public ImageReference pin(String field, ImageRef.OciConfig image) {
          throw new AssertionError("these plans have no container image to pin");
        }
      };

  @Test
  void aVmsWritableDisksTogetherAreBoundedBeforeAnyCopy() throws Exception {
    Files.writeString(dir.resolve("vmlinux"), "k");
    Files.write(dir.resolve("root"), new byte[600]);
    Files.write(dir.resolve("data"), new byte[600]);
    Path disks = dir.resolve("vms/uid/disks");
    assertThatThrownBy(() -> LaunchImages.prepare(plan(false), images, disks, 1000))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("writable disks take 1200 bytes together")
        .hasMessageContaining("(1000 bytes)");
    assertThat(disks).doesNotExist();
    // A read-only disk is the shared image, not a copy: it does not count.
    var ok = LaunchImages.prepare(plan(true), images, disks, 1000);
    assertThat(ok.disks().get(0).path()).isEqualTo(disks.resolve("rootfs"));
    assertThat(ok.disks().get(1).path()).isEqualTo(dir.resolve("data"));
  }
}
