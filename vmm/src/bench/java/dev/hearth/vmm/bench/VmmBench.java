package dev.hearth.vmm.bench;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.MappedGuestMemory;
import dev.hearth.vmm.vm.MicroVm;
import dev.hearth.vmm.vm.VmExit;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Hearth's VMM costs on the tiny test guests, each printed beside a baseline measured in the same
 * run: the bare KVM floor (the same KVM objects made and freed with no VMM around them), so that
 * the ratio is what the VMM adds. Not a test: run it with {@code vmm/src/bench/run-bench.sh}.
 *
 * <p>Figures: set-up from config to the guest's first exit (its first instruction that leaves the
 * guest: a console byte), teardown, VM lifecycles per second per CPU-second, and host memory per
 * idle VM from {@code IDLE_VMS} concurrent VMs.
 */
public final class VmmBench {
  private static final int IDLE_VMS = 100;

  public static void main(String[] args) throws Exception {
    Path guests = Path.of(args.length > 0 ? args[0] : "vmm/target/guests");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    Path hello = guests.resolve("hello.elf");
    Path idle = guests.resolve("idle.elf");

    for (int i = 0; i < Math.max(5, n / 5); i++) {
      lifecycle(hello, i, null);
      floor();
    }
    double[] floorSetup = new double[n];
    double[] floorTeardown = new double[n];
    double[] setup = new double[n];
    double[] teardown = new double[n];
    for (int i = 0; i < n; i++) {
      double[] f = floor();
      floorSetup[i] = f[0];
      floorTeardown[i] = f[1];
      double[] h = lifecycle(hello, i, null);
      setup[i] = h[0];
      teardown[i] = h[1];
    }

    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      lifecycle(hello, i, null);
    }
    double hearthPerCpuSecond = n / ((processCpuNanos() - cpu0) / 1e9);
    double hearthPerSecond = n / ((System.nanoTime() - t0) / 1e9);
    cpu0 = processCpuNanos();
    for (int i = 0; i < n; i++) {
      floor();
    }
    double floorPerCpuSecond = n / ((processCpuNanos() - cpu0) / 1e9);

    long rssBefore = rssBytes();
    List<MicroVm> vms = new ArrayList<>();
    for (int i = 0; i < IDLE_VMS; i++) {
      MicroVm vm = MicroVm.create(config(idle, i, 8), null);
      vms.add(vm);
      vm.start();
    }
    for (MicroVm vm : vms) {
      while (!vm.console().text().contains("idle")) {
        Thread.sleep(1);
      }
    }
    System.gc();
    long rssIdle = rssBytes();
    for (MicroVm vm : vms) {
      vm.close();
    }
    long perVm = (rssIdle - rssBefore) / IDLE_VMS;

    System.out.printf("Hearth VMM bench, %d samples each (medians), on %s%n", n, kvmWhere());
    row("set-up to first guest exit", median(setup), median(floorSetup), "ms");
    row("teardown", median(teardown), median(floorTeardown), "ms");
    System.out.printf(
        "%-32s %10.1f   baseline %10.1f   ratio %5.2f  (%.1f VMs/s wall)%n",
        "VM lifecycles per CPU-second",
        hearthPerCpuSecond,
        floorPerCpuSecond,
        hearthPerCpuSecond / floorPerCpuSecond,
        hearthPerSecond);
    System.out.printf(
        "%-32s %10.1f KiB (RSS growth over %d idle 8 MiB VMs, guest pages touched included)%n",
        "host memory per idle VM", perVm / 1024.0, IDLE_VMS);
    System.out.println(
        "baseline = bare KVM floor: open /dev/kvm, create VM + irqchip + PIT + 8 MiB slot + vCPU,"
            + " then close, with no VMM around it");
  }

  private static VmConfig config(Path kernel, int i, long mib) {
    return VmConfig.of("bench-" + i, 1, mib, BootSource.of(kernel, "console=ttyS0"));
  }

  /** Returns {set-up ms, teardown ms} for one hello VM. */
  private static double[] lifecycle(Path hello, int i, Object unused) throws Exception {
    CountDownLatch firstByte = new CountDownLatch(1);
    long[] firstAt = new long[1];
    OutputStream sink =
        new OutputStream() {
          @Override
          public void write(int b) {
            if (firstAt[0] == 0) {
              firstAt[0] = System.nanoTime();
              firstByte.countDown();
            }
          }
        };
    long t0 = System.nanoTime();
    MicroVm vm = MicroVm.create(config(hello, i, 8), sink);
    vm.start();
    if (!firstByte.await(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("no console output from the guest");
    }
    VmExit exit = vm.waitForExit(Duration.ofSeconds(30)).orElseThrow();
    if (!exit.isClean()) {
      throw new IllegalStateException("guest ended badly: " + exit);
    }
    long t1 = System.nanoTime();
    vm.close();
    long t2 = System.nanoTime();
    return new double[] {(firstAt[0] - t0) / 1e6, (t2 - t1) / 1e6};
  }

  /** The bare KVM floor: {set-up ms, teardown ms}. */
  private static double[] floor() {
    long t0 = System.nanoTime();
    Kvm kvm = Kvm.open();
    VmFd vm = kvm.createVm();
    kvm.close();
    vm.setTssAddress(0xfffbd000L);
    vm.createIrqchip();
    vm.createPit2();
    MappedGuestMemory mem =
        MappedGuestMemory.map(List.of(new MappedGuestMemory.Range(GuestAddress.of(0), 8 << 20)));
    vm.setUserMemoryRegion(0, 0, mem.memory().regions().get(0).host());
    VcpuFd vcpu = vm.createVcpu(0);
    long t1 = System.nanoTime();
    vcpu.close();
    mem.close();
    vm.close();
    long t2 = System.nanoTime();
    return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6};
  }

  private static void row(String what, double hearth, double baseline, String unit) {
    System.out.printf(
        "%-32s %10.3f %s baseline %10.3f %s ratio %5.2f%n",
        what, hearth, unit, baseline, unit, hearth / baseline);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static long rssBytes() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS");
  }

  private static String kvmWhere() throws Exception {
    String model = "unknown CPU";
    for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        model = line.substring(line.indexOf(':') + 1).strip();
        break;
      }
    }
    return model + ", " + Runtime.getRuntime().availableProcessors() + " CPUs";
  }
}
