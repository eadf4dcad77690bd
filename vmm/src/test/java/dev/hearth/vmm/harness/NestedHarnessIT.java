package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proves the nested-KVM harness on this machine: inside L1 there is a working {@code /dev/kvm}, JDK
 * 25 runs a JUnit class from this build's class path, and QEMU with {@code -accel kvm} boots the
 * minimal Linux test guest to its marker from vmlinux and from bzImage. The host's own {@code
 * /dev/kvm} is not used (L1 runs in QEMU's software emulation), so this runs wherever the harness
 * can be built; a harness that cannot run fails these tests.
 */
class NestedHarnessIT {
  private static NestedKvm harness;

  @BeforeAll
  static void locateHarness() {
    harness = NestedKvm.locate();
  }

  @Test
  void qemuInsideL1BootsTheTestGuestOnNestedKvm() throws Exception {
    Path l2 = harness.scriptDirectory().resolve("l2-boot-qemu.sh");
    List<String> steps =
        List.of(
            "test -c /dev/kvm",
            "java -version",
            l2 + " --kernel vmlinux --cpus 1",
            l2 + " --kernel bzImage --cpus 2",
            l2 + " --kernel vmlinux --cpus 1 --rootfs disk");
    NestedJob job =
        NestedJob.of("set -e; " + String.join("; ", steps))
            .withGuest()
            .withAdd(l2)
            .withTimeout(Duration.ofMinutes(6));

    // A QEMU guest with 2 vCPUs has frozen L1 now and then: L1's kernel then reports soft lockups
    // of both its CPUs inside that QEMU's KVM_RUN (QEMU's software AMD-V below L1). Once, L1's
    // kernel overflowed its stack in an interrupt while that QEMU left KVM_RUN, and panicked. A
    // run that goes silent is stopped after 2 minutes, and one that goes silent or loses L1 is
    // tried once more in a fresh L1, as the KVM suites do.
    NestedKvm watched = harness.withQuietLimit(Duration.ofMinutes(2));
    NestedRun run = watched.run(job);
    if (run.outcome() == Outcome.TIMEOUT || run.outcome() == Outcome.L1_CRASHED) {
      System.out.println(
          "NestedHarnessIT: L1 stalled or died; running the job again: " + run.describe());
      run = watched.run(job);
    }
    run.requireJobExit();

    assertThat(run.exitCode()).as(run::describe).isZero();
    assertThat(run.stderr()).as(run::describe).anyMatch(l -> l.contains("version \"25"));
    assertThat(run.stdout())
        .as(run::describe)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("L2-BOOT qemu kernel=vmlinux cpus=1 rootfs=initramfs result=ok"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("L2-BOOT qemu kernel=bzImage cpus=2 rootfs=initramfs result=ok"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("L2-BOOT qemu kernel=vmlinux cpus=1 rootfs=disk result=ok"));
    assertThat(run.stderr())
        .as("the guest's own checks, as l2-boot-qemu.sh relays them")
        .anyMatch(l -> l.contains("HEARTH-CHECK cpus OK online=2 expected=2"))
        .anyMatch(l -> l.contains("HEARTH-CHECK rootfs OK"));
    report("qemu-in-L1", run);
  }

  @Test
  void runsAJUnitClassInsideL1AgainstThisBuildsClassPath() throws Exception {
    NestedRun run =
        harness
            .runJUnit(
                KvmInsideL1Probe.class, NestedJob.of("junit").withTimeout(Duration.ofMinutes(5)))
            .requireJobExit();

    assertThat(run.exitCode()).as(run::describe).isZero();
    assertThat(run.stdout()).as(run::describe).anyMatch(l -> l.contains("probe: /dev/kvm API 12"));
    assertThat(run.stdout()).as(run::describe).anyMatch(l -> l.contains("2 tests successful"));
    report("junit-in-L1", run);
  }

  @Test
  void anL1ThatCannotComeUpInTimeIsAHarnessFailure() throws Exception {
    NestedRun run = harness.run(NestedJob.of("true").withBootTimeout(Duration.ofSeconds(1)));

    assertThat(run.outcome()).as(run::describe).isEqualTo(Outcome.L1_NO_BOOT);
    assertThat(run.reason()).contains("--boot-timeout 1s");
  }

  private static void report(String what, NestedRun run) {
    System.out.printf(
        "TIMING %s: L1 /dev/kvm ready %.1f s, job %.1f s, L1 round trip %.1f s, prepare %.1f s,"
            + " wall %.1f s%n",
        what,
        run.timing("l1_kvm_s").orElse(-1.0),
        run.timing("job_end_s").orElse(-1.0) - run.timing("job_start_s").orElse(0.0),
        run.timing("total_s").orElse(-1.0),
        run.timing("prepare_s").orElse(-1.0),
        run.wall().toMillis() / 1000.0);
    run.lines().stream()
        .filter(l -> l.text().startsWith("L2-BOOT "))
        .forEach(l -> System.out.println("TIMING " + l.text()));
  }
}
