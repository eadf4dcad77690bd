/*
 * Tells the host whether its KVM can run Linux. A KVM without hardware virtualisation (kvm_pvm on a
 * VM host) emulates every instruction: it lacks some that Linux's boot path executes (popcnt among
 * them) and runs thousands of times slower. This guest executes popcnt where CPUID offers it, then
 * a million-iteration loop; the host reads the verdict from how the guest ends and how long it ran.
 */
#include "lib.h"

void guest_main(const u8 *boot_params) {
  (void)boot_params;
  u32 a, b, c, d;
  cpuid(1, &a, &b, &c, &d);
  if (c & (1u << 23)) {
    u64 bits = 0xf0f0f0f0, count;
    __asm__ volatile("popcnt %1, %0" : "=r"(count) : "r"(bits));
    puts(count == 16 ? "linuxprobe: popcnt ok\n" : "linuxprobe: popcnt wrong\n");
  }
  u64 n = 1000000;
  __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
  puts("linuxprobe: loop done\n");
}
