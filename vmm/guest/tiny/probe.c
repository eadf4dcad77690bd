/* Reports what the guest sees: its e820 RAM, an unmapped MMIO and PIO read, and signals the boot
 * timer. */
#include "lib.h"

void guest_main(const u8 *bp) {
  u8 n = bp[0x1e8];
  u64 ram = 0;
  for (u8 i = 0; i < n && i < 128; i++) {
    const u8 *e = bp + 0x2d0 + 20 * i;
    if (*(const u32 *)(e + 16) == 1) ram += *(const u64 *)(e + 8);
  }
  puts("e820 entries: ");
  put_dec(n);
  puts(" ram bytes: ");
  put_dec(ram);
  puts("\n");

  map_high();
  *(volatile u8 *)0xd0000000UL = 123; /* Firecracker's boot-timer magic */
  puts("boot timer signalled\n");

  u32 v = *(volatile u32 *)0xd8000000UL;
  puts("unmapped mmio read: ");
  put_hex(v);
  puts("\nunmapped pio read: ");
  put_hex(inb(0x2f8));
  puts("\n");
}
