package dev.hearth.vmm.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** A property of the host that some tests need, and how to tell whether this host has it. */
public enum HostRequirement {
  KVM {
    @Override
    Optional<String> whyMissing() {
      Path kvm = Path.of("/dev/kvm");
      if (!Files.exists(kvm)) {
        return Optional.of("/dev/kvm does not exist (no KVM on this host)");
      }
      try (FileChannel _ =
          FileChannel.open(kvm, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        return Optional.empty();
      } catch (IOException | SecurityException e) {
        return Optional.of("/dev/kvm cannot be opened read-write: " + e.getMessage());
      }
    }
  },
  /**
   * A KVM that runs Linux guests: hardware virtualisation, not an instruction emulator. Where
   * {@code /dev/kvm} exists but cannot run Linux, the tests that need it run inside the nested-KVM
   * harness instead (each module's {@code NestedKvmSuiteIT}), so here they are skipped, on CI too.
   */
  LINUX_KVM {
    @Override
    Optional<String> whyMissing() {
      return LinuxKvmProbe.whyLinuxCannotRun();
    }

    @Override
    boolean coveredElsewhere() {
      return KVM.whyMissing().isEmpty();
    }
  },
  ROOT {
    @Override
    Optional<String> whyMissing() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("Uid:")) {
            String effective = line.substring(4).trim().split("\\s+")[1];
            return "0".equals(effective)
                ? Optional.empty()
                : Optional.of("not running as root (effective uid " + effective + ")");
          }
        }
        return Optional.of("no Uid line in /proc/self/status");
      } catch (IOException e) {
        return Optional.of("cannot read /proc/self/status: " + e.getMessage());
      }
    }
  };

  /** Empty when the host has this requirement, else a sentence saying why not. */
  abstract Optional<String> whyMissing();

  /** True when a test lacking this requirement here runs somewhere else in the same build. */
  boolean coveredElsewhere() {
    return false;
  }

  /** What a test that needs this should do on this host. */
  public enum Verdict {
    RUN,
    SKIP,
    FAIL
  }

  /**
   * Decides whether a test runs, is skipped or fails. On CI a missing requirement is a failure,
   * never a silent skip, because CI machines for this project have KVM and root.
   */
  static Verdict decide(Optional<String> whyMissing, boolean onCi) {
    if (whyMissing.isEmpty()) {
      return Verdict.RUN;
    }
    return onCi ? Verdict.FAIL : Verdict.SKIP;
  }

  static boolean onCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }
}
