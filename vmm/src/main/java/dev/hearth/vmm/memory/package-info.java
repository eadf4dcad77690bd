/**
 * Guest memory as mmap-backed regions with {@link dev.hearth.vmm.memory.GuestAddress}: every access
 * is bounds-checked, because every address that comes from the guest is hostile. Uses {@code sys}.
 */
package dev.hearth.vmm.memory;
