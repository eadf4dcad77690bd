/**
 * The PIO and MMIO buses that route a vCPU's exits to devices by address range. Depends on nothing
 * else of the VMM.
 */
package dev.hearth.vmm.devices.bus;
