package dev.hearth.agent.node;

import dev.hearth.api.v1alpha1.KvmInfo;
import dev.hearth.api.v1alpha1.NodeResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the host offers: vCPUs and memory from {@code /proc/cpuinfo} and {@code /proc/meminfo}, and
 * KVM facts. The {@code /proc} root and the KVM check are injectable for tests.
 */
public final class HostProbe {
  private final Path proc;
  private final Supplier<Optional<String>> kvmOpenProblem;

  /**
   * @param proc usually {@code /proc}
   * @param kvmOpenProblem opens KVM (checking its API version); empty on success, else why not
   */
  public HostProbe(Path proc, Supplier<Optional<String>> kvmOpenProblem) {
    this.proc = proc;
    this.kvmOpenProblem = kvmOpenProblem;
  }

  /** The real host, opening KVM through the embedded VMM. */
  public static HostProbe system() {
    return new HostProbe(
        Path.of("/proc"),
        () -> {
          try (var _ = dev.hearth.vmm.kvm.Kvm.open()) {
            return Optional.empty();
          } catch (RuntimeException | LinkageError e) {
            return Optional.of(String.valueOf(e.getMessage()));
          }
        });
  }

  public NodeResources capacity() {
    List<String> cpuinfo = lines("cpuinfo");
    int cpus = (int) cpuinfo.stream().filter(l -> l.startsWith("processor")).count();
    long memKb = 0;
    for (String l : lines("meminfo")) {
      if (l.startsWith("MemTotal:")) {
        memKb = Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return new NodeResources(Math.max(cpus, 1), memKb / 1024);
  }

  public KvmInfo kvm() {
    KvmInfo info = new KvmInfo();
    Optional<String> problem = kvmOpenProblem.get();
    info.setPresent(problem.isEmpty());
    if (problem.isEmpty()) {
      info.setApiVersion(dev.hearth.vmm.kvm.KvmIoctls.KVM_API_VERSION);
    }
    String flags =
        lines("cpuinfo").stream()
            .filter(l -> l.startsWith("flags"))
            .findFirst()
            .orElse("")
            .toLowerCase(Locale.ROOT);
    String ext =
        flags.matches(".*\\bvmx\\b.*") ? "vmx" : flags.matches(".*\\bsvm\\b.*") ? "svm" : null;
    info.setCanRunLinux(problem.isEmpty() && ext != null);
    info.setDetail(
        problem.isPresent()
            ? "KVM unusable: " + problem.get()
            : ext != null
                ? "hardware virtualization (" + ext + ")"
                : "no vmx/svm in /proc/cpuinfo: this KVM emulates guest instructions, so only tiny"
                    + " guests run, not Linux");
    return info;
  }

  private List<String> lines(String file) {
    try {
      return Files.readAllLines(proc.resolve(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + proc.resolve(file), e);
    }
  }
}
