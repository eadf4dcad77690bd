package dev.hearth.vmm.devices.legacy;

/**
 * A {@link Serial16550}'s registers and the input the guest has not read yet.
 *
 * @param input bytes in the receive FIFO, oldest first
 */
public record SerialState(
    int ier, int lcr, int mcr, int scr, int dll, int dlm, boolean thrEmptyPending, byte[] input) {}
