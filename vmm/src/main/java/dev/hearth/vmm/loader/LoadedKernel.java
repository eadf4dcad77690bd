package dev.hearth.vmm.loader;

import java.util.Optional;

/**
 * A kernel placed in guest memory.
 *
 * @param entry the guest-physical address of its 64-bit entry point
 * @param end the first guest-physical address past the kernel image
 * @param setupHeader for a bzImage, its setup header (file bytes from 0x1f1), which seeds the zero
 *     page; empty for an ELF kernel
 * @param initrdAddressMax the highest address the initrd may end at
 */
public record LoadedKernel(
    long entry, long end, Optional<byte[]> setupHeader, long initrdAddressMax) {}
