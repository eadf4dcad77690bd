package dev.hearth.vmm.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.hearth.vmm.vm.ExitReason;
import dev.hearth.vmm.vm.VmExit;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LinuxKvmProbeTest {
  private static final String DONE = "linuxprobe: popcnt ok\nlinuxprobe: loop done\n";

  private static Optional<VmExit> ended(ExitReason reason, long millis) {
    return Optional.of(
        new VmExit(reason, "test", Optional.empty(), new byte[] {0x0f}, Duration.ofMillis(millis)));
  }

  @Test
  void aFastCleanRunMeansKvmRunsLinux() {
    assertThat(LinuxKvmProbe.judge(ended(ExitReason.RESET, 3), DONE)).isEmpty();
  }

  @Test
  void anEmulationFailureMeansAnEmulatingKvm() {
    assertThat(LinuxKvmProbe.judge(ended(ExitReason.EMULATION_FAILURE, 1), ""))
        .hasValueSatisfying(why -> assertThat(why).contains("emulates instructions"));
  }

  @Test
  void aSlowLoopMeansAnEmulatingKvmEvenWhenEveryInstructionWorked() {
    assertThat(LinuxKvmProbe.judge(ended(ExitReason.RESET, 1800), DONE))
        .hasValueSatisfying(why -> assertThat(why).contains("took 1800 ms"));
  }

  @Test
  void aWrongAnswerOrAnUnfinishedRunIsNoLinuxKvmEither() {
    assertThat(
            LinuxKvmProbe.judge(
                ended(ExitReason.RESET, 2), "linuxprobe: popcnt wrong\nlinuxprobe: loop done\n"))
        .isPresent();
    assertThat(LinuxKvmProbe.judge(ended(ExitReason.CRASHED, 2), "")).isPresent();
    assertThat(LinuxKvmProbe.judge(Optional.empty(), "")).isPresent();
  }

  @Test
  void withoutDevKvmTheProbeSaysSoWithoutBootingAnything() {
    assumeFalse(LinuxKvmProbe.hostHasKvm(), "this host has KVM: the probe boots its guest here");
    assertThat(LinuxKvmProbe.whyLinuxCannotRun())
        .hasValueSatisfying(why -> assertThat(why).contains("/dev/kvm"));
  }
}
