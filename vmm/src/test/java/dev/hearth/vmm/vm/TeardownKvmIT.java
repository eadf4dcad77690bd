package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.testing.RequiresKvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Creating and destroying many VMs leaks no fd, mapping or thread. */
@RequiresKvm
@Timeout(170)
class TeardownKvmIT {
  private static final int VMS = 200;

  @Test
  void twoHundredVmsComeAndGoWithoutLeakingFdsOrThreads() throws Exception {
    cycle(0); // warm up: classes loaded, jars opened, the kick handler installed
    long fds = count("/proc/self/fd");
    long threads = count("/proc/self/task");
    long maps = Files.readAllLines(Path.of("/proc/self/maps")).size();

    long t0 = System.nanoTime();
    for (int i = 1; i <= VMS; i++) {
      cycle(i);
      if (i % 50 == 0) {
        System.out.printf("teardown: %d VMs in %d ms%n", i, (System.nanoTime() - t0) / 1_000_000);
      }
    }

    assertThat(count("/proc/self/fd")).as("open fds").isEqualTo(fds);
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().startsWith("vcpu-") || t.getName().startsWith("events-"));
    // The JIT may add a compiler thread or two while this runs; VM threads would add hundreds.
    assertThat(count("/proc/self/task")).as("native threads").isLessThanOrEqualTo(threads + 2);
    assertThat((long) Files.readAllLines(Path.of("/proc/self/maps")).size())
        .as("mappings")
        .isLessThan(maps + 50);
  }

  /**
   * Every tenth VM runs to its reset; the others are stopped at once, through the kick. Either way
   * each VM had its threads started, its irqfds wired and its memory mapped.
   */
  private static void cycle(int i) throws Exception {
    try (MicroVm vm =
        MicroVm.create(TestGuests.config("hello", i % 4 == 3 ? 2 : 1, 8, "n=" + i), null)) {
      vm.start();
      if (i % 10 != 0) {
        vm.stop();
      }
      VmExit exit = vm.waitForExit(Duration.ofSeconds(30)).orElseThrow();
      assertThat(exit.reason()).isIn(ExitReason.RESET, ExitReason.STOPPED);
    }
  }

  private static long count(String dir) throws IOException {
    try (Stream<Path> s = Files.list(Path.of(dir))) {
      return s.count();
    }
  }
}
