package dev.hearth.agent.runtime;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.ConfigException;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.kvm.KvmException;
import dev.hearth.vmm.loader.LoaderException;
import dev.hearth.vmm.vm.ExitReason;
import dev.hearth.vmm.vm.MicroVm;
import dev.hearth.vmm.vm.VmException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The embedded VMM ({@link MicroVm}) behind {@link VmRuntime}: one MicroVm per VM, in this JVM.
 *
 * <p>The VMM on main boots a kernel (and initrd) with a serial console and a boot timer; it has no
 * virtio-blk or virtio-net device yet, so {@link #capabilities()} admits no disks and no interfaces
 * and the agent rejects such specs as UnsupportedSpec with that reason. Once the VMM adds them,
 * this adapter attaches {@link VmLaunch#disks()} and {@link VmLaunch#nics()} (taps by name) and
 * forwards {@link #updateLimits} to their rate limiters.
 */
public final class VmmRuntime implements VmRuntime {
  private static final Duration BOOT_POLL_MAX = Duration.ofMillis(200);

  @Override
  public Capabilities capabilities() {
    return new Capabilities(VmConfig.MAX_VCPUS, true, false, 0, 0);
  }

  @Override
  public RunningVm start(VmLaunch launch) throws VmStartException {
    if (!launch.disks().isEmpty() || !launch.nics().isEmpty() || launch.vsockCid().isPresent()) {
      throw new VmStartException(
          "UnsupportedSpec",
          "the embedded VMM has no virtio-blk, virtio-net or vsock device yet",
          null);
    }
    String cmdline = (launch.cmdline() + " " + launch.extraCmdline()).strip();
    VmConfig config;
    try {
      config =
          VmConfig.of(
              vmmName(launch.id()),
              launch.vcpus(),
              launch.memoryMiB(),
              new BootSource(launch.kernel(), launch.initrd(), cmdline));
    } catch (ConfigException e) {
      throw new VmStartException("InvalidVmConfig", e.getMessage(), e);
    }
    MicroVm vm;
    try {
      vm = MicroVm.create(config, launch.console());
    } catch (KvmException e) {
      throw new VmStartException("KvmUnavailable", e.getMessage(), e);
    } catch (LoaderException e) {
      throw new VmStartException("KernelLoadFailed", e.getMessage(), e);
    } catch (VmException e) {
      throw new VmStartException("VmCreateFailed", e.getMessage(), e);
    }
    try {
      vm.start();
    } catch (RuntimeException e) {
      vm.close();
      throw new VmStartException("VmStartFailed", e.getMessage(), e);
    }
    return new Running(vm);
  }

  /** VmConfig names allow [A-Za-z0-9._-]{1,63}; namespace/name becomes namespace.name. */
  static String vmmName(String id) {
    String n = id.replace('/', '.').replaceAll("[^A-Za-z0-9._-]", "-");
    return n.length() > 63 ? n.substring(0, 63) : n;
  }

  /** ExitReason.EMULATION_FAILURE becomes EmulationFailure, and so on. */
  static String camel(ExitReason reason) {
    StringBuilder s = new StringBuilder();
    for (String part : reason.name().split("_")) {
      s.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return s.toString();
  }

  private static final class Running implements RunningVm {
    private final MicroVm vm;
    private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    private final CompletableFuture<Duration> booted = new CompletableFuture<>();

    Running(MicroVm vm) {
      this.vm = vm;
      Thread.ofVirtual().name("hearth-wait-" + vm.config().name()).start(this::waitForExit);
      Thread.ofVirtual().name("hearth-boot-" + vm.config().name()).start(this::watchBootTimer);
    }

    private void waitForExit() {
      try {
        dev.hearth.vmm.vm.VmExit e = vm.waitForExit();
        vm.close(); // every vCPU thread, fd and mapping is released before the agent hears of it
        exit.complete(new VmExit(camel(e.reason()), e.message(), e.isClean()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        vm.close();
        exit.complete(new VmExit("Stopped", "the agent stopped waiting for the VM", false));
      } catch (RuntimeException e) {
        vm.close();
        exit.complete(new VmExit("VmmError", String.valueOf(e.getMessage()), false));
      }
    }

    /** The boot timer has no callback; poll it cheaply (virtual thread, growing interval). */
    private void watchBootTimer() {
      Duration wait = Duration.ofMillis(5);
      try {
        while (!exit.isDone()) {
          Optional<Duration> t = vm.bootTime();
          if (t.isPresent()) {
            booted.complete(t.get());
            return;
          }
          Thread.sleep(wait);
          wait =
              wait.multipliedBy(2).compareTo(BOOT_POLL_MAX) > 0
                  ? BOOT_POLL_MAX
                  : wait.multipliedBy(2);
        }
        vm.bootTime().ifPresent(booted::complete);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public CompletableFuture<VmExit> exit() {
      return exit;
    }

    @Override
    public CompletableFuture<Duration> booted() {
      return booted;
    }

    @Override
    public void updateLimits(VmLaunch.Limits limits) {
      // Nothing to update: this VMM attaches no rate-limited device yet (see capabilities()).
    }

    /**
     * The VMM has no ACPI or guest-agent shutdown request yet, so this stops the guest at once;
     * {@code grace} bounds the wait for its threads.
     */
    @Override
    public void stop(Duration grace, String reason) {
      vm.stop();
      try {
        exit.get(grace.toMillis() + 5_000, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        vm.close();
      }
    }
  }
}
