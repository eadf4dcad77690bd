/**
 * Kernel loading: ELF vmlinux and bzImage loaders, the initrd's placement and the kernel command
 * line builder. Every offset and size read from an image is checked. Uses guest memory and the
 * x86_64 layout.
 */
package dev.hearth.vmm.loader;
