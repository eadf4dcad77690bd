package dev.hearth.vmm.devices.legacy;

/**
 * Whether, and after how long, the guest signalled its boot.
 *
 * @param bootNanos the boot time in nanoseconds, or -1 if the guest has not signalled yet
 */
public record BootTimerState(long bootNanos) {}
