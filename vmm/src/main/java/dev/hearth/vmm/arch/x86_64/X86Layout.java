package dev.hearth.vmm.arch.x86_64;

/**
 * Where everything lives in a Hearth guest's physical address space and I/O port space, in one
 * place. The layout follows Firecracker's x86_64 microVM, so that kernels built for it boot here.
 */
public final class X86Layout {
  /** The GDT the VMM sets up for a 64-bit entry. */
  public static final long GDT_START = 0x500;

  /** An empty IDT: the guest installs its own before enabling interrupts. */
  public static final long IDT_START = 0x520;

  /** The zero page: Linux's {@code struct boot_params}. Passed in RSI. */
  public static final long ZERO_PAGE_START = 0x7000;

  /** Initial stack pointer (grows down from just under the page tables). */
  public static final long BOOT_STACK_POINTER = 0x8ff0;

  /** Identity-mapping page tables: PML4, PDPT and one PD of 2 MiB pages (the first 1 GiB). */
  public static final long PML4_START = 0x9000;

  public static final long PDPTE_START = 0xa000;
  public static final long PDE_START = 0xb000;

  /** The kernel command line, NUL-terminated. */
  public static final long CMDLINE_START = 0x20000;

  /** The longest command line, terminator included. */
  public static final int CMDLINE_MAX_SIZE = 2048;

  /** The MP table, in the last KiB of base memory (the EBDA). */
  public static final long MPTABLE_START = 0x9fc00;

  /** The end of usable low memory; the EBDA and the BIOS area above it are reserved. */
  public static final long EBDA_START = 0x9fc00;

  /** Where a protected-mode kernel is loaded, and the lowest address an ELF kernel may use. */
  public static final long HIMEM_START = 0x100000;

  /** Start of the 768 MiB hole below 4 GiB for MMIO devices, the IOAPIC and the LAPIC. */
  public static final long MMIO_GAP_START = 0xd000_0000L;

  /** First address above 4 GiB: RAM resumes here when the guest has more than fits below. */
  public static final long MMIO_GAP_END = 0x1_0000_0000L;

  /** The boot-timer device: one page at the start of the MMIO gap, as in Firecracker. */
  public static final long BOOT_TIMER_MMIO = MMIO_GAP_START;

  /** First MMIO slot for virtio-mmio devices; each device gets {@link #MMIO_SLOT_SIZE}. */
  public static final long VIRTIO_MMIO_START = MMIO_GAP_START + 0x1000;

  public static final long MMIO_SLOT_SIZE = 0x1000;

  /** Last usable address for MMIO slots (below the IOAPIC). */
  public static final long MMIO_SLOTS_END = 0xfec0_0000L;

  /** First and last GSIs handed to virtio devices. */
  public static final int VIRTIO_IRQ_FIRST = 5;

  public static final int VIRTIO_IRQ_LAST = 23;

  public static final long IOAPIC_ADDRESS = 0xfec0_0000L;
  public static final long APIC_ADDRESS = 0xfee0_0000L;

  /** Three pages KVM needs for its TSS on Intel, just below the BIOS area at the top of 4 GiB. */
  public static final long KVM_TSS_ADDRESS = 0xfffb_d000L;

  /** COM1 and its interrupt. */
  public static final int SERIAL_PORT = 0x3f8;

  public static final int SERIAL_IRQ = 4;

  /** The i8042 keyboard controller: data at 0x60, command/status at 0x64. */
  public static final int I8042_PORT = 0x60;

  public static final int I8042_PORT_SIZE = 5;

  /** The I/O port through which older Firecracker guests signal boot completion. */
  public static final int BOOT_TIMER_PORT = 0x3f0;

  /**
   * The guest-exit port ({@link dev.hearth.vmm.devices.legacy.GuestExitPort}): Hearth's container
   * init writes its workload's exit status there, 4 bytes, before it ends the VM.
   */
  public static final int GUEST_EXIT_PORT = 0x4f0;

  /** The guest-exit port's width: one 32-bit write. */
  public static final int GUEST_EXIT_PORT_SIZE = 4;

  /** The most vCPUs a Hearth guest may have. */
  public static final int MAX_VCPUS = 32;

  private X86Layout() {}
}
