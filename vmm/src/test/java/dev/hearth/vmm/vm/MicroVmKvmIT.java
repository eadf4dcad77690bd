package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.testing.RequiresKvm;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Boots the tiny test guests on real KVM and checks what they report through real exits. */
@RequiresKvm
@Timeout(120)
class MicroVmKvmIT {

  private static VmExit run(MicroVm vm) throws InterruptedException {
    vm.start();
    Optional<VmExit> exit = vm.waitForExit(Duration.ofSeconds(60));
    assertThat(exit).as("guest ended; console so far:%n%s", vm.console().text()).isPresent();
    return exit.get();
  }

  @Test
  void helloPrintsItsCommandLineAndResetsThroughTheI8042() throws Exception {
    try (MicroVm vm =
        MicroVm.create(TestGuests.config("hello", 1, 16, "console=ttyS0 greeting=hi"), null)) {
      VmExit exit = run(vm);
      assertThat(vm.console().text())
          .contains("Hello from a Hearth guest! cmdline: console=ttyS0 greeting=hi\n");
      assertThat(exit.reason()).as("%s", exit).isEqualTo(ExitReason.RESET);
    }
  }

  @Test
  void consoleInputReachesTheGuestThroughTheUart() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("echo", 1, 16, ""), null)) {
      vm.start();
      awaitConsole(vm, "echo ready\n");
      vm.connectConsoleInput(new ByteArrayInputStream("ping from the host\n".getBytes()));
      VmExit exit = vm.waitForExit(Duration.ofSeconds(60)).orElseThrow();
      assertThat(vm.console().text()).contains("echo: ping from the host\n");
      assertThat(exit.reason()).isEqualTo(ExitReason.RESET);
    }
  }

  @Test
  void probeSeesItsE820RamTheBootTimerAndAllOnesForUnmappedAccesses() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("probe", 1, 64, ""), null)) {
      VmExit exit = run(vm);
      String out = vm.console().text();
      // e820: [0, 0x9fc00) and [1 MiB, 64 MiB).
      long ram = 0x9fc00 + (64L << 20) - 0x100000;
      assertThat(out).contains("e820 entries: 2 ram bytes: " + ram + "\n");
      assertThat(out).contains("boot timer signalled\n");
      assertThat(vm.bootTime()).isPresent();
      assertThat(vm.booted()).isCompletedWithValue(vm.bootTime().get());
      assertThat(vm.exited()).isCompletedWithValue(exit);
      // Not isPositive(): this guest signals within microseconds, and a host whose clock ticks
      // coarsely (L1 under QEMU's emulation at times) then reads the same instant twice.
      assertThat(vm.bootTime().get())
          .isGreaterThanOrEqualTo(Duration.ZERO)
          .isLessThan(exit.uptime().plusMillis(1));
      assertThat(out).contains("unmapped mmio read: 0xffffffff\n");
      assertThat(out).contains("unmapped pio read: 0xff\n");
      assertThat(exit.reason()).isEqualTo(ExitReason.RESET);
    }
  }

  @Test
  void fourVcpusEachReportTheirApicId() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("smp", 4, 16, "ncpus=4"), null)) {
      VmExit exit = run(vm);
      String out = vm.console().text();
      assertThat(out).contains("bsp apic 0\n");
      String aps = out.substring(out.indexOf("aps:") + 4, out.indexOf("\nsmp:"));
      assertThat(aps.chars().sorted().toArray()).containsExactly('1', '2', '3');
      assertThat(out).contains("smp: 4 of 4 cpus up\n");
      assertThat(exit.reason()).isEqualTo(ExitReason.RESET);
    }
  }

  @Test
  void aTripleFaultIsReportedAsACrashWithRegisters() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("triple", 1, 16, ""), null)) {
      VmExit exit = run(vm);
      assertThat(vm.console().text()).contains("about to triple-fault\n").doesNotContain("alive");
      assertThat(exit.reason()).isEqualTo(ExitReason.CRASHED);
      assertThat(exit.message()).contains("triple");
      // AMD's KVM resets the vCPU on a shutdown intercept, so only the dump's presence is portable.
      assertThat(exit.registers()).isPresent();
      assertThat(exit.toString()).contains("rip=");
    }
  }

  @Test
  void anInstructionKvmCannotEmulateIsReportedWithItsBytes() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("emufail", 1, 16, ""), null)) {
      VmExit exit = run(vm);
      assertThat(vm.console().text()).contains("about to fail emulation\n").doesNotContain("alive");
      assertThat(exit.reason()).as("%s", exit).isEqualTo(ExitReason.EMULATION_FAILURE);
      // pcmpeqb (%rax), %xmm0
      assertThat(exit.instructionBytes()).startsWith(0x66, 0x0f, 0x74, 0x00);
      assertThat(exit.registers()).isPresent();
      assertThat(exit.registers().get().regs().rax()).isEqualTo(0xd8000000L);
    }
  }

  @Test
  void pauseFreezesTheGuestResumeContinuesAndStopEndsIt() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("ticker", 1, 16, ""), null)) {
      vm.start();
      awaitConsole(vm, "tick 1\n");
      vm.pause();
      assertThat(vm.state()).isEqualTo(MicroVm.State.PAUSED);
      long frozen = vm.console().totalBytes();
      Thread.sleep(300);
      assertThat(vm.console().totalBytes()).isEqualTo(frozen);
      vm.resume();
      awaitConsoleGrowth(vm, frozen + 8);
      vm.stop();
      VmExit exit = vm.waitForExit(Duration.ofSeconds(10)).orElseThrow();
      assertThat(exit.reason()).isEqualTo(ExitReason.STOPPED);
    }
  }

  /**
   * The agent stops a paused VM (a suspend) while the VM's end closes it on another thread. The
   * paused vCPUs leave at the stop flag, the close joins them and unmaps their {@code kvm_run}, and
   * a kick still on its way must not write there: it crashed the JVM once in a few hundred stops.
   */
  @Test
  void stoppingAPausedVmWhileItsEndClosesItElsewhereIsSafe() throws Exception {
    for (int i = 0; i < 500; i++) {
      MicroVm vm = MicroVm.create(TestGuests.config("bench", 1 + i % 2, 8, "idle=1"), null);
      CompletableFuture<Void> closed =
          vm.exited()
              .thenRunAsync(vm::close, task -> Thread.ofVirtual().name("closer").start(task));
      vm.start();
      awaitConsoleGrowth(vm, 1);
      vm.pause();
      vm.stop();
      closed.get(10, TimeUnit.SECONDS);
      assertThat(vm.state()).isEqualTo(MicroVm.State.CLOSED);
    }
  }

  @Test
  void anEventLoopThatDiesEndsTheVmWithAVmmErrorNamingIt() throws Exception {
    try (MicroVm vm = MicroVm.create(TestGuests.config("ticker", 1, 16, ""), null)) {
      vm.start();
      awaitConsole(vm, "tick 1\n");
      vm.eventLoop()
          .execute(
              () -> {
                throw new OutOfMemoryError("Java heap space");
              });
      VmExit exit = vm.waitForExit(Duration.ofSeconds(10)).orElseThrow();
      assertThat(exit.reason()).isEqualTo(ExitReason.VMM_ERROR);
      assertThat(exit.message()).contains("events-ticker").contains("OutOfMemoryError");
    }
  }

  static void awaitConsole(MicroVm vm, String text) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!vm.console().text().contains(text)) {
      assertThat(System.nanoTime()).as("waiting for %s", text).isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  static void awaitConsoleGrowth(MicroVm vm, long bytes) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (vm.console().totalBytes() < bytes) {
      assertThat(System.nanoTime()).as("waiting for console output").isLessThan(deadline);
      Thread.sleep(5);
    }
  }
}
