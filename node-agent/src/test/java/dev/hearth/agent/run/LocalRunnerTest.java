package dev.hearth.agent.run;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.ImageSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KVM is checked before a VM is created, with one sentence the user can act on. */
class LocalRunnerTest {
  @TempDir Path dir;

  private LocalRunner runner(Path kvmDevice) {
    ImageCache images =
        new ImageCache(
            dir.resolve("cache"), 1 << 20, ImageCache.Timeouts.DEFAULT, new SimpleMeterRegistry());
    return new LocalRunner(images, kvmDevice, new PrintStream(new ByteArrayOutputStream()));
  }

  private LocalVmPlan plan() throws Exception {
    Path kernel = Files.write(dir.resolve("kernel.elf"), new byte[] {0x7f, 'E', 'L', 'F'});
    return new LocalVmPlan(
        "t", 1, 16, new ImageSource.NodeFile(kernel, Optional.empty()), Optional.empty(), "");
  }

  @Test
  void missingKvmSaysSo() throws Exception {
    Path none = dir.resolve("no-kvm");
    LocalVmPlan plan = plan();
    assertThatThrownBy(() -> runner(none).run(plan, new ByteArrayOutputStream()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessage(
            "KVM is missing: "
                + none
                + " does not exist; Hearth needs a host with KVM (load kvm_intel or kvm_amd)");
  }

  @Test
  void aKvmDeviceThatCannotBeOpenedIsNotPermitted() throws Exception {
    Path notADevice = Files.createDirectory(dir.resolve("kvm-dir"));
    LocalVmPlan plan = plan();
    assertThatThrownBy(() -> runner(notADevice).run(plan, new ByteArrayOutputStream()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessageStartingWith("KVM is not permitted: cannot open " + notADevice);
  }
}
