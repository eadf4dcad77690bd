/* The smallest Hearth guest: greets on the serial console with its command line, then resets. */
#include "lib.h"

void guest_main(const u8 *boot_params) {
  puts("Hello from a Hearth guest! cmdline: ");
  puts(boot_cmdline(boot_params));
  puts("\n");
}
