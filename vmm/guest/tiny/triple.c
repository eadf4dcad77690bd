/* Triple-faults on purpose: no IDT, then a page fault (nothing is mapped at 2 GiB). */
#include "lib.h"

void guest_main(const u8 *bp) {
  (void)bp;
  puts("about to triple-fault\n");
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } idt = {0, 0};
  __asm__ volatile("lidt %0" : : "m"(idt));
  (void)*(volatile u64 *)0x80000000UL;
  puts("still alive?\n");
}
