#include "lib.h"

#define COM1 0x3f8

/* Polled console: Hearth's UART transmitter is always empty, so no LSR wait. */
void putc(char c) { outb(COM1, (u8)c); }

void puts(const char *s) {
  while (*s) putc(*s++);
}

void put_dec(u64 v) {
  char buf[21];
  int i = 20;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  puts(&buf[i]);
}

void put_hex(u64 v) {
  static const char digits[] = "0123456789abcdef";
  char buf[19];
  buf[0] = '0';
  buf[1] = 'x';
  int n = 0;
  u64 t = v;
  do {
    n++;
    t >>= 4;
  } while (t);
  for (int i = 0; i < n; i++) buf[2 + n - 1 - i] = digits[(v >> (4 * i)) & 0xf];
  buf[2 + n] = 0;
  puts(buf);
}

/* The VMM identity-maps the first GiB. Map 3..4 GiB too (2 MiB pages, uncached), where the MMIO
 * gap, the IOAPIC and the LAPIC live. The PDPT is the VMM's, at 0xa000. */
static u64 high_pd[512] __attribute__((aligned(4096)));

void map_high(void) {
  for (u64 i = 0; i < 512; i++) high_pd[i] = (0xc0000000UL + (i << 21)) | 0x83 | 0x18;
  volatile u64 *pdpt = (volatile u64 *)0xa000;
  pdpt[3] = (u64)high_pd | 0x3;
  __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
}

const char *boot_cmdline(const u8 *bp) {
  u32 ptr = *(const u32 *)(bp + 0x228);
  return (const char *)(u64)ptr;
}

/* The value of "key=value" in the command line, or 0. */
const char *cmdline_param(const char *s, const char *key) {
  while (*s) {
    while (*s == ' ') s++;
    const char *k = key;
    const char *p = s;
    while (*k && *p == *k) {
      p++;
      k++;
    }
    if (!*k && *p == '=') return p + 1;
    while (*s && *s != ' ') s++;
  }
  return 0;
}

u64 parse_dec(const char *s) {
  u64 v = 0;
  while (s && *s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
  return v;
}

/* Pulse the CPU reset line through the keyboard controller: Linux's reboot=k. */
void i8042_reset(void) {
  outb(0x64, 0xfe);
  for (;;) __asm__ volatile("hlt");
}
