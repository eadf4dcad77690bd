/* hello, for side-by-side runs: greets with its command line, then asks QEMU's isa-debug-exit
 * (port 0xf4) to end the VM, and otherwise resets through the i8042 as Hearth guests do. With
 * "idle" on the command line it halts for good instead: an idle VM. */
#include "lib.h"

void guest_main(const u8 *boot_params) {
  puts("Hello from a Hearth guest! cmdline: ");
  puts(boot_cmdline(boot_params));
  puts("\n");
  if (cmdline_param(boot_cmdline(boot_params), "idle")) {
    for (;;) __asm__ volatile("hlt");
  }
  outb(0xf4, 0);
}
