#ifndef HEARTH_GUEST_LIB_H
#define HEARTH_GUEST_LIB_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

void puts(const char *s);
void putc(char c);
void put_dec(u64 v);
void put_hex(u64 v);
void map_high(void);
const char *boot_cmdline(const u8 *boot_params);
const char *cmdline_param(const char *cmdline, const char *key);
u64 parse_dec(const char *s);
__attribute__((noreturn)) void i8042_reset(void);

#endif
