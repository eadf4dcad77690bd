package dev.hearth.vmm.kvm;

/**
 * Every KVM ioctl number the VMM uses, computed the way {@code <linux/kvm.h>} does ({@code _IO},
 * {@code _IOR}, {@code _IOW}, {@code _IOWR} on type 0xAE), and the exit reasons of {@code kvm_run}.
 */
public final class KvmIoctls {
  private static final int KVMIO = 0xAE;

  private static long io(int nr) {
    return ((long) KVMIO << 8) | nr;
  }

  private static long ior(int nr, int size) {
    return (2L << 30) | ((long) size << 16) | ((long) KVMIO << 8) | nr;
  }

  private static long iow(int nr, int size) {
    return (1L << 30) | ((long) size << 16) | ((long) KVMIO << 8) | nr;
  }

  private static long iowr(int nr, int size) {
    return (3L << 30) | ((long) size << 16) | ((long) KVMIO << 8) | nr;
  }

  // System ioctls, on /dev/kvm.
  public static final long KVM_GET_API_VERSION = io(0x00);
  public static final long KVM_CREATE_VM = io(0x01);
  public static final long KVM_CHECK_EXTENSION = io(0x03);
  public static final long KVM_GET_VCPU_MMAP_SIZE = io(0x04);
  public static final long KVM_GET_SUPPORTED_CPUID = iowr(0x05, 8);
  public static final long KVM_GET_MSR_INDEX_LIST = iowr(0x02, 4);

  // VM ioctls.
  public static final long KVM_CREATE_VCPU = io(0x41);
  public static final long KVM_SET_USER_MEMORY_REGION = iow(0x46, 32);
  public static final long KVM_GET_DIRTY_LOG = iow(0x42, 16);

  /** {@code kvm_userspace_memory_region.flags}: KVM logs the slot's pages the guest writes. */
  public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;

  public static final long KVM_SET_TSS_ADDR = io(0x47);
  public static final long KVM_SET_IDENTITY_MAP_ADDR = iow(0x48, 8);
  public static final long KVM_CREATE_IRQCHIP = io(0x60);
  public static final long KVM_IRQ_LINE = iow(0x61, 8);
  public static final long KVM_IRQFD = iow(0x76, 32);
  public static final long KVM_CREATE_PIT2 = iow(0x77, 64);
  public static final long KVM_IOEVENTFD = iow(0x79, 64);
  public static final long KVM_GET_IRQCHIP = iowr(0x62, 520);
  public static final long KVM_SET_IRQCHIP = ior(0x63, 520);
  public static final long KVM_SET_CLOCK = iow(0x7b, 48);
  public static final long KVM_GET_CLOCK = ior(0x7c, 48);
  public static final long KVM_GET_PIT2 = ior(0x9f, 112);
  public static final long KVM_SET_PIT2 = iow(0xa0, 112);

  // vCPU ioctls.
  public static final long KVM_RUN = io(0x80);
  public static final long KVM_GET_REGS = ior(0x81, 144);
  public static final long KVM_SET_REGS = iow(0x82, 144);
  public static final long KVM_GET_SREGS = ior(0x83, 312);
  public static final long KVM_SET_SREGS = iow(0x84, 312);
  public static final long KVM_GET_MSRS = iowr(0x88, 8);
  public static final long KVM_SET_MSRS = iow(0x89, 8);
  public static final long KVM_GET_FPU = ior(0x8c, 416);
  public static final long KVM_SET_FPU = iow(0x8d, 416);
  public static final long KVM_GET_LAPIC = ior(0x8e, 1024);
  public static final long KVM_SET_LAPIC = iow(0x8f, 1024);
  public static final long KVM_SET_CPUID2 = iow(0x90, 8);
  public static final long KVM_GET_MP_STATE = ior(0x98, 4);
  public static final long KVM_SET_MP_STATE = iow(0x99, 4);
  public static final long KVM_GET_VCPU_EVENTS = ior(0x9f, 64);
  public static final long KVM_SET_VCPU_EVENTS = iow(0xa0, 64);
  public static final long KVM_GET_DEBUGREGS = ior(0xa1, 128);
  public static final long KVM_SET_DEBUGREGS = iow(0xa2, 128);
  public static final long KVM_GET_XSAVE = ior(0xa4, 4096);
  public static final long KVM_SET_XSAVE = iow(0xa5, 4096);
  public static final long KVM_GET_XCRS = ior(0xa6, 392);
  public static final long KVM_SET_XCRS = iow(0xa7, 392);

  // kvm_irqchip chip ids, and kvm_clock_data flags.
  public static final int IRQCHIP_PIC_MASTER = 0;
  public static final int IRQCHIP_PIC_SLAVE = 1;
  public static final int IRQCHIP_IOAPIC = 2;
  public static final int KVM_CLOCK_TSC_STABLE = 2;

  /** The only stable KVM API version. */
  public static final int KVM_API_VERSION = 12;

  // Capabilities for KVM_CHECK_EXTENSION.
  public static final int KVM_CAP_IRQCHIP = 0;
  public static final int KVM_CAP_USER_MEMORY = 3;
  public static final int KVM_CAP_SET_TSS_ADDR = 4;
  public static final int KVM_CAP_EXT_CPUID = 7;
  public static final int KVM_CAP_NR_VCPUS = 9;
  public static final int KVM_CAP_MAX_VCPUS = 66;
  public static final int KVM_CAP_IOEVENTFD = 36;
  public static final int KVM_CAP_IRQFD = 32;
  public static final int KVM_CAP_PIT2 = 33;
  public static final int KVM_CAP_IMMEDIATE_EXIT = 136;

  // kvm_run.exit_reason.
  public static final int KVM_EXIT_UNKNOWN = 0;
  public static final int KVM_EXIT_EXCEPTION = 1;
  public static final int KVM_EXIT_IO = 2;
  public static final int KVM_EXIT_HYPERCALL = 3;
  public static final int KVM_EXIT_DEBUG = 4;
  public static final int KVM_EXIT_HLT = 5;
  public static final int KVM_EXIT_MMIO = 6;
  public static final int KVM_EXIT_IRQ_WINDOW_OPEN = 7;
  public static final int KVM_EXIT_SHUTDOWN = 8;
  public static final int KVM_EXIT_FAIL_ENTRY = 9;
  public static final int KVM_EXIT_INTR = 10;
  public static final int KVM_EXIT_INTERNAL_ERROR = 17;
  public static final int KVM_EXIT_SYSTEM_EVENT = 24;

  public static final int KVM_INTERNAL_ERROR_EMULATION = 1;
  public static final int KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES = 1;

  public static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1;
  public static final int KVM_SYSTEM_EVENT_RESET = 2;
  public static final int KVM_SYSTEM_EVENT_CRASH = 3;

  // kvm_ioeventfd.flags.
  public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
  public static final int KVM_IOEVENTFD_FLAG_PIO = 2;
  public static final int KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

  // kvm_irqfd.flags.
  public static final int KVM_IRQFD_FLAG_DEASSIGN = 1;

  /** KVM_CREATE_PIT2 flag: the PIT's speaker port is a dummy. */
  public static final int KVM_PIT_SPEAKER_DUMMY = 1;

  private KvmIoctls() {}
}
