package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A process of its own that restores a ticker snapshot, as a new agent would after the old one was
 * killed: prints the restored guest's console once it shows {@code tick <until>}, then exits 0 (1
 * if the guest ended or never got there). Used by {@link SnapshotKvmIT}.
 */
public final class RestoreProcess {
  private RestoreProcess() {}

  public static void main(String[] args) throws Exception {
    Path snap = Path.of(args[0]);
    VmConfig config =
        VmConfig.of("ticker", 1, 16, BootSource.of(Path.of(args[1]), "console=ttyS0"));
    String until = "tick " + args[2] + "\n";
    try (MicroVm vm = MicroVm.restore(snap, config, null)) {
      vm.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!vm.console().text().contains(until)) {
        if (System.nanoTime() > deadline || vm.waitForExit(Duration.ofMillis(5)).isPresent()) {
          System.out.print(vm.console().text());
          System.exit(1);
        }
      }
      System.out.print(vm.console().text());
    }
  }
}
