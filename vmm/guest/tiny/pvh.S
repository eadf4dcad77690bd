/* A PVH entry (Xen's PHYS32_ENTRY note), so that QEMU can boot the same guest for comparisons:
 * entered in 32-bit protected mode with paging off and EBX at hvm_start_info, it builds the same
 * page tables and GDT a Hearth VMM sets up, fakes a zero page holding the command line pointer,
 * and joins the 64-bit entry. Hearth's own loader ignores the note. */
        .section .note.pvh, "a"
        .balign 4
        .long   4, 4, 18
        .asciz  "Xen"
        .long   pvh_start

        .section .text.pvh, "ax"
        .code32
pvh_start:
        cli
        mov     $0x7000, %edi           /* zero page: clear it */
        xor     %eax, %eax
        mov     $1024, %ecx
        rep stosl
        mov     24(%ebx), %eax          /* start_info.cmdline_paddr */
        mov     %eax, 0x7228
        movl    $0xa003, 0x9000
        movl    $0, 0x9004
        movl    $0xb003, 0xa000
        movl    $0, 0xa004
        mov     $0xb000, %edi
        mov     $0x83, %eax
        mov     $512, %ecx
1:      mov     %eax, (%edi)
        movl    $0, 4(%edi)
        add     $0x200000, %eax
        add     $8, %edi
        loop    1b
        mov     $0x9000, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax
        mov     %eax, %cr4
        mov     $0xc0000080, %ecx
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax
        mov     %eax, %cr0
        lgdt    pvh_gdt_desc
        ljmp    $0x08, $pvh_64
        .code64
pvh_64:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     $0x7000, %esi
        jmp     _start

        .section .rodata
        .balign 8
pvh_gdt:
        .quad   0, 0x00af9b000000ffff, 0x00cf93000000ffff
pvh_gdt_desc:
        .word   3 * 8 - 1
        .long   pvh_gdt
