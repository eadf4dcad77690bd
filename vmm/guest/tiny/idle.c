/* Says it is up, then halts with interrupts off: an idle VM whose vCPU sleeps in the kernel. */
#include "lib.h"

void guest_main(const u8 *bp) {
  (void)bp;
  puts("idle\n");
  for (;;) __asm__ volatile("hlt");
}
