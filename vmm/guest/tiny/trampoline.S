/* Real-mode code the BSP copies to 0x10000 for the APs' start-up IPI (vector 0x10, so CS=0x1000).
 * Each AP prints its APIC id (CPUID.1:EBX[31:24]) as one digit on COM1, counts itself in at
 * 0x10800, and halts. Position-independent within its segment. */
        .section .rodata
        .globl ap_trampoline, ap_trampoline_end
        .code16
ap_trampoline:
        cli
        mov     %cs, %ax
        mov     %ax, %ds
        movl    $1, %eax
        xorl    %ecx, %ecx
        cpuid
        shrl    $24, %ebx
        mov     %bl, %al
        add     $'0', %al
        mov     $0x3f8, %dx
        outb    %al, %dx
        lock incw 0x800
1:      hlt
        jmp     1b
ap_trampoline_end:
        .code64
