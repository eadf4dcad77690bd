package dev.hearth.vmm.devices.legacy;

/**
 * An {@link I8042}'s configuration, output port, half-done command, status and unread output.
 *
 * @param out bytes waiting for the guest to read, oldest first
 */
public record I8042State(int ctr, int outp, int pendingCommand, int status, byte[] out) {}
