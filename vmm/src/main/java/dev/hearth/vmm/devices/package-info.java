/**
 * Devices and what they share: interrupt lines and device logging; buses, legacy devices and virtio
 * devices in the sub-packages. Devices never touch KVM directly.
 */
package dev.hearth.vmm.devices;
