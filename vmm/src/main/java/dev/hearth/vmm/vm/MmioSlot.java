package dev.hearth.vmm.vm;

import dev.hearth.vmm.devices.InterruptLine;

/**
 * The MMIO window and interrupt a device was given.
 *
 * @param base guest-physical address of the window
 * @param size window size
 * @param gsi the interrupt's GSI (IOAPIC pin)
 * @param interrupt triggers that GSI (through an irqfd)
 * @param irqEventFd the eventfd behind {@code interrupt}, for devices that signal it directly
 */
public record MmioSlot(long base, long size, int gsi, InterruptLine interrupt, int irqEventFd) {}
