/*
 * l1-exit CODE: ends the L1 machine through QEMU's isa-debug-exit device (port 0xf4), which makes
 * QEMU exit with status (CODE << 1) | 1. The Debian kernel has no /dev/port, hence this helper.
 * Codes above 127 do not fit that status; the init reports the exact code on the console first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: l1-exit CODE\n");
    return 2;
  }
  long code = strtol(argv[1], NULL, 0);
  if (code < 0 || code > 127) code = 127;
  if (ioperm(DEBUG_EXIT_PORT, 4, 1) != 0) {
    perror("l1-exit: ioperm 0xf4");
    return 1;
  }
  outl((unsigned int)code, DEBUG_EXIT_PORT);
  perror("l1-exit: still running after the debug-exit write (no isa-debug-exit device?)");
  return 1;
}
