/* Starts every AP with INIT-SIPI-SIPI; each prints its APIC id. The BSP prints its own, waits for
 * the APs to count themselves in, and reports how many came up. The vCPU count comes from
 * "ncpus=N" on the command line. */
#include "lib.h"

extern const u8 ap_trampoline[], ap_trampoline_end[];

#define LAPIC 0xfee00000UL
#define ICR_LOW 0x300
#define ICR_HIGH 0x310
#define AP_COUNT ((volatile u16 *)0x10800)

static void icr(u32 low) {
  *(volatile u32 *)(LAPIC + ICR_HIGH) = 0;
  *(volatile u32 *)(LAPIC + ICR_LOW) = low;
}

void guest_main(const u8 *bp) {
  u64 ncpus = parse_dec(cmdline_param(boot_cmdline(bp), "ncpus"));
  u32 a, b, c, d;
  cpuid(1, &a, &b, &c, &d);
  puts("bsp apic ");
  put_dec(b >> 24);
  puts("\naps:");

  volatile u8 *dst = (volatile u8 *)0x10000;
  for (const u8 *s = ap_trampoline; s < ap_trampoline_end; s++) *dst++ = *s;
  *AP_COUNT = 0;

  map_high();
  icr(0x000c4500);        /* INIT, all but self */
  icr(0x000c4600 | 0x10); /* start-up at 0x10000 */
  icr(0x000c4600 | 0x10);

  for (u64 spin = 0; *AP_COUNT < ncpus - 1 && spin < 50000000UL; spin++) {
  }
  puts("\nsmp: ");
  put_dec(*AP_COUNT + 1);
  puts(" of ");
  put_dec(ncpus);
  puts(" cpus up\n");
}
