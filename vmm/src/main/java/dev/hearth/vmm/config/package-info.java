/**
 * Immutable records that describe a VM (boot source, shape, drives, interfaces, vsock, rng), each
 * checked when made, with errors that name the field. Uses the rate-limit configuration and the MAC
 * address type; nothing that opens a file or an fd.
 */
package dev.hearth.vmm.config;
