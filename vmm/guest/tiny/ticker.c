/* Prints "tick N" forever, with a delay loop between lines: a guest to pause, resume and stop.
 * With "flood=1" on the command line it prints without the delay: a guest that floods its console. */
#include "lib.h"

void guest_main(const u8 *bp) {
  int flood = cmdline_param(boot_cmdline(bp), "flood") != 0;
  for (u64 n = 0;; n++) {
    puts("tick ");
    put_dec(n);
    puts("\n");
    if (flood) {
      continue;
    }
    for (volatile u64 spin = 0; spin < 2000; spin++) {
    }
  }
}
