package dev.hearth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.node.FdBudget;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.vmm.sys.OpenFileLimit;
import dev.hearth.vmm.testing.BuiltGuests;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The descriptors a VM of the embedded VMM holds, against what {@link FdBudget} counts for it, and
 * what the runtime reports when the process has none left. Needs a /dev/kvm that runs the tiny test
 * guests; skipped elsewhere.
 */
class VmmFdsTest {
  private static final int VMS = 10;

  @TempDir Path dir;
  private Path idle;

  @BeforeEach
  void needsKvm() {
    idle = BuiltGuests.elf("idle").toAbsolutePath();
    Assumptions.assumeTrue(
        Files.isWritable(Path.of("/dev/kvm")) && Files.isReadable(idle),
        "needs /dev/kvm and the vmm test guests");
  }

  @Test
  void everyShapeOfVmHoldsNoMoreDescriptorsThanTheBudgetCounts() throws Exception {
    VmmRuntime runtime = new VmmRuntime(dir.resolve("vsock"));
    record Shape(int vcpus, int disks, boolean vsock) {}
    for (Shape s :
        List.of(
            new Shape(1, 0, false),
            new Shape(2, 0, false),
            new Shape(1, 2, false),
            new Shape(1, 0, true))) {
      java.util.Map<String, String> before = openFds();
      List<RunningVm> vms = new ArrayList<>();
      try {
        for (int i = 0; i < VMS; i++) {
          List<VmLaunch.Disk> disks = new ArrayList<>();
          for (int d = 0; d < s.disks(); d++) {
            Path disk = Files.write(dir.resolve("disk" + d), new byte[1 << 16]);
            disks.add(new VmLaunch.Disk("d" + d, disk, true, Optional.empty()));
          }
          vms.add(
              runtime.start(
                  launch(
                      "fds/" + s + i,
                      s.vcpus(),
                      disks,
                      s.vsock() ? OptionalLong.of(3 + i) : OptionalLong.empty())));
        }
        // New descriptors only: one the JVM closes meanwhile (a finished test's) must not hide one
        // a VM holds.
        java.util.Map<String, String> after = openFds();
        long added =
            after.entrySet().stream()
                .filter(e -> !e.getValue().equals(before.get(e.getKey())))
                .count();
        double perVm = added / (double) VMS;
        assertThat(perVm)
            .as("descriptors per VM of %s", s)
            .isLessThanOrEqualTo(FdBudget.perVm(s.vcpus(), s.disks(), 0, s.vsock()))
            .isGreaterThan(0);
        if (s.equals(new Shape(1, 0, false))) {
          assertThat(perVm)
              .as(
                  "a VM without devices: VM, vCPU; added %s",
                  after.entrySet().stream()
                      .filter(e -> !e.getValue().equals(before.get(e.getKey())))
                      .map(java.util.Map.Entry::getValue)
                      .toList())
              .isEqualTo(2);
        }
      } finally {
        vms.forEach(vm -> vm.stop(Duration.ofSeconds(1), "measured"));
      }
    }
  }

  /** This process's open descriptors: number to what it refers to. */
  private static java.util.Map<String, String> openFds() throws java.io.IOException {
    java.util.Map<String, String> fds = new java.util.HashMap<>();
    try (var list = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : list.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (!target.matches("/proc/\\d+/fd")) { // the listing's own directory stream
            fds.put(fd.getFileName().toString(), target);
          }
        } catch (java.io.IOException closedMeanwhile) {
          // the directory stream's own descriptor, or one closed while listing
        }
      }
    }
    return fds;
  }

  @Test
  void aProcessOutOfDescriptorsFailsTheStartWithItsOwnReason() throws Exception {
    VmmRuntime runtime = new VmmRuntime(dir.resolve("vsock"));
    OpenFileLimit.Limit limit = OpenFileLimit.current();
    List<RunningVm> vms = new ArrayList<>();
    try {
      OpenFileLimit.setSoft(FdBudget.openNow() + 3 * FdBudget.perVm(1, 0, 0, false) + 8);
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 100; i++) {
                  vms.add(
                      runtime.start(launch("fds/emfile-" + i, 1, List.of(), OptionalLong.empty())));
                }
              })
          .isInstanceOfSatisfying(
              VmStartException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS);
                assertThat(e.getMessage()).contains("Too many open files");
              });
      assertThat(vms).isNotEmpty();
    } finally {
      OpenFileLimit.setSoft(limit.soft());
      vms.forEach(vm -> vm.stop(Duration.ofSeconds(1), "done"));
    }
  }

  private VmLaunch launch(String id, int vcpus, List<VmLaunch.Disk> disks, OptionalLong cid) {
    return new VmLaunch(
        id,
        vcpus,
        16,
        idle,
        Optional.empty(),
        "",
        "",
        disks,
        List.of(),
        cid,
        VmLaunch.Limits.NONE,
        new ByteArrayOutputStream(),
        null);
  }
}
