/* Prints "tick N" forever, with a delay loop between lines: a guest to pause, resume and stop. */
#include "lib.h"

void guest_main(const u8 *bp) {
  (void)bp;
  for (u64 n = 0;; n++) {
    puts("tick ");
    put_dec(n);
    puts("\n");
    for (volatile u64 spin = 0; spin < 2000; spin++) {
    }
  }
}
