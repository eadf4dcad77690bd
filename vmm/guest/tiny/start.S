/* 64-bit entry: the VMM leaves RSI pointing at boot_params. Use our own stack, call
 * guest_main(boot_params), then reset through the i8042. */
        .section .text.start, "ax"
        .globl _start
        .code64
_start:
        cli
        lea     stack_top(%rip), %rsp
        mov     %rsi, %rdi
        call    guest_main
        call    i8042_reset

        .bss
        .balign 16
stack:
        .skip   16384
stack_top:
