/* Makes KVM fail to emulate: an SSE compare whose memory operand is MMIO. KVM must emulate every
 * MMIO access, and its emulator has no SSE arithmetic, so the VMM sees an emulation failure with
 * the instruction bytes (66 0f 74 00: pcmpeqb (%rax), %xmm0). */
#include "lib.h"

void guest_main(const u8 *bp) {
  (void)bp;
  map_high();
  puts("about to fail emulation\n");
  __asm__ volatile(
      "mov %%cr4, %%rax\n\t"
      "or $0x600, %%rax\n\t" /* OSFXSR, OSXMMEXCPT */
      "mov %%rax, %%cr4\n\t"
      "mov %%cr0, %%rax\n\t"
      "and $~0xc, %%rax\n\t" /* no EM, no TS */
      "or $0x2, %%rax\n\t"   /* MP */
      "mov %%rax, %%cr0\n\t"
      "mov $0xd8000000, %%rax\n\t"
      "pcmpeqb (%%rax), %%xmm0\n\t"
      :
      :
      : "rax", "memory");
  puts("still alive?\n");
}
