/* Reads one line from the serial port (polling the line status register) and echoes it back. */
#include "lib.h"

void guest_main(const u8 *bp) {
  (void)bp;
  puts("echo ready\n");
  puts("echo: ");
  for (int i = 0; i < 256; i++) {
    while (!(inb(0x3f8 + 5) & 1)) {
    }
    char c = (char)inb(0x3f8);
    putc(c);
    if (c == '\n') break;
  }
}
