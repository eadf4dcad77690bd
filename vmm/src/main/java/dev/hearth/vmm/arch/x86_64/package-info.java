/**
 * x86_64 boot set-up: the guest memory layout, boot_params (zero page) and e820, GDT and page
 * tables for a 64-bit entry, CPUID, MSRs, LAPIC and the MP table. Uses {@code kvm} and {@code
 * memory}.
 */
package dev.hearth.vmm.arch.x86_64;
