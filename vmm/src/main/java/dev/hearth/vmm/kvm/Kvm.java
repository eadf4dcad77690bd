package dev.hearth.vmm.kvm;

import static dev.hearth.vmm.kvm.KvmIoctls.*;

import dev.hearth.vmm.sys.Errno;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * An open {@code /dev/kvm}. It creates VMs and answers questions about the host's KVM. One instance
 * may serve many VMs; a VM keeps working after the {@code Kvm} that made it is closed.
 */
public final class Kvm implements AutoCloseable {
  private static final int MAX_MSR_INDICES = 1024;
  // The host KVM's, the same for every VM of this process: asked once.
  private static volatile List<Integer> msrIndices;
  private static volatile int maxVcpus;

  private static final int MAX_CPUID_ENTRIES = 256;

  /** Tries of {@code KVM_CREATE_VM} that a signal may interrupt before it counts as failed. */
  private static final int CREATE_VM_ATTEMPTS = 100;

  private final int fd;
  private final int vcpuMmapSize;
  private volatile boolean closed;

  private Kvm(int fd) {
    this.fd = fd;
    try {
      int version = LibC.ioctl(fd, KVM_GET_API_VERSION, 0L, "KVM_GET_API_VERSION");
      if (version != KVM_API_VERSION) {
        throw new KvmException(
            "KVM API version " + version + " is not the supported " + KVM_API_VERSION);
      }
      for (int cap : new int[] {KVM_CAP_IRQCHIP, KVM_CAP_USER_MEMORY, KVM_CAP_IOEVENTFD}) {
        if (checkExtension(cap) <= 0) {
          throw new KvmException("this KVM lacks capability " + cap);
        }
      }
      this.vcpuMmapSize = LibC.ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE");
    } catch (RuntimeException e) {
      LibC.close(fd);
      throw e;
    }
  }

  /**
   * Opens {@code /dev/kvm}.
   *
   * @throws KvmException if it is missing, not permitted, or of an unsupported API version
   */
  public static Kvm open() {
    try {
      return new Kvm(LibC.open("/dev/kvm", LibC.O_RDWR | LibC.O_CLOEXEC));
    } catch (SysException e) {
      String why =
          switch (e.errno()) {
            case Errno.ENOENT -> "/dev/kvm does not exist: this host has no KVM";
            case Errno.EACCES, Errno.EPERM ->
                "/dev/kvm is not permitted for this user (add it to the kvm group or run as root)";
            default -> "cannot open /dev/kvm: " + e.getMessage();
          };
      throw new KvmException(why, e);
    }
  }

  /** {@code KVM_CHECK_EXTENSION}: 0 when absent, else a capability-specific positive value. */
  public int checkExtension(int capability) {
    return LibC.ioctl(fd, KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
  }

  /** The most vCPUs one VM may have on this host (asked of KVM once per process). */
  public int maxVcpus() {
    int known = maxVcpus;
    if (known == 0) {
      int max = checkExtension(KVM_CAP_MAX_VCPUS);
      known = max > 0 ? max : Math.max(checkExtension(KVM_CAP_NR_VCPUS), 4);
      maxVcpus = known;
    }
    return known;
  }

  /** Size of each vCPU's {@code kvm_run} mapping. */
  public int vcpuMmapSize() {
    return vcpuMmapSize;
  }

  /** {@code KVM_GET_SUPPORTED_CPUID}: what this host's KVM can offer a guest. */
  public List<CpuidEntry> supportedCpuid() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(8 + 40L * MAX_CPUID_ENTRIES, 8);
      buf.set(ValueLayout.JAVA_INT, 0, MAX_CPUID_ENTRIES);
      LibC.ioctl(fd, KVM_GET_SUPPORTED_CPUID, buf, "KVM_GET_SUPPORTED_CPUID");
      return readCpuid(buf);
    }
  }

  /** Creates a VM. */
  public VmFd createVm() {
    List<Integer> msrs = msrIndices;
    if (msrs == null) {
      msrs = msrIndexList();
      msrIndices = msrs;
    }
    return new VmFd(createVmFd(), vcpuMmapSize, msrs);
  }

  /**
   * {@code KVM_CREATE_VM}, tried again on EINTR: the VM's MMU notifier walks every mapping of the
   * process under its locks and gives up when a signal arrives meanwhile. In a JVM one does (JFR's
   * sampler, a profiler, the JVM's own thread signals), and with thousands of mappings the walk is
   * long enough to be hit.
   */
  private int createVmFd() {
    for (int attempt = 1; ; attempt++) {
      int r = LibC.ioctlRaw(fd, KVM_CREATE_VM, 0L);
      if (r >= 0) {
        return r;
      }
      if (r != -Errno.EINTR || attempt == CREATE_VM_ATTEMPTS) {
        throw new SysException("ioctl(KVM_CREATE_VM)", fd, -r, LibC.strerror(-r));
      }
    }
  }

  /**
   * {@code KVM_GET_MSR_INDEX_LIST}: the MSRs this KVM saves and restores for a guest, the list a
   * snapshot reads (as Firecracker's does).
   */
  public List<Integer> msrIndexList() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(4 + 4L * MAX_MSR_INDICES, 4);
      buf.set(ValueLayout.JAVA_INT, 0, MAX_MSR_INDICES);
      LibC.ioctl(fd, KVM_GET_MSR_INDEX_LIST, buf, "KVM_GET_MSR_INDEX_LIST");
      int n = buf.get(ValueLayout.JAVA_INT, 0);
      if (n < 0 || n > MAX_MSR_INDICES) {
        throw new KvmException("KVM_GET_MSR_INDEX_LIST returned " + n + " MSRs");
      }
      List<Integer> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(buf.get(ValueLayout.JAVA_INT, 4 + 4L * i));
      }
      return List.copyOf(out);
    }
  }

  static List<CpuidEntry> readCpuid(MemorySegment buf) {
    int n = buf.get(ValueLayout.JAVA_INT, 0);
    if (n < 0 || 8 + 40L * n > buf.byteSize()) {
      throw new KvmException("KVM returned " + n + " CPUID entries, more than asked for");
    }
    List<CpuidEntry> entries = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long o = 8 + 40L * i;
      entries.add(
          new CpuidEntry(
              buf.get(ValueLayout.JAVA_INT, o),
              buf.get(ValueLayout.JAVA_INT, o + 4),
              buf.get(ValueLayout.JAVA_INT, o + 8),
              buf.get(ValueLayout.JAVA_INT, o + 12),
              buf.get(ValueLayout.JAVA_INT, o + 16),
              buf.get(ValueLayout.JAVA_INT, o + 20),
              buf.get(ValueLayout.JAVA_INT, o + 24)));
    }
    return entries;
  }

  static MemorySegment writeCpuid(Arena arena, List<CpuidEntry> entries) {
    MemorySegment buf = arena.allocate(8 + 40L * entries.size(), 8);
    buf.set(ValueLayout.JAVA_INT, 0, entries.size());
    for (int i = 0; i < entries.size(); i++) {
      CpuidEntry e = entries.get(i);
      long o = 8 + 40L * i;
      buf.set(ValueLayout.JAVA_INT, o, e.function());
      buf.set(ValueLayout.JAVA_INT, o + 4, e.index());
      buf.set(ValueLayout.JAVA_INT, o + 8, e.flags());
      buf.set(ValueLayout.JAVA_INT, o + 12, e.eax());
      buf.set(ValueLayout.JAVA_INT, o + 16, e.ebx());
      buf.set(ValueLayout.JAVA_INT, o + 20, e.ecx());
      buf.set(ValueLayout.JAVA_INT, o + 24, e.edx());
    }
    return buf;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.close(fd);
    }
  }
}
