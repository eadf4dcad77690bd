/**
 * Firecracker's rate limiter: token buckets for bandwidth and operations, their configuration and
 * live updates, and typed limiter ids ({@link dev.hearth.vmm.ratelimit.LimiterId}). Depends on
 * nothing else of the VMM; its refill timer is injected.
 */
package dev.hearth.vmm.ratelimit;
