/**
 * The agent's Prometheus metrics: VMs per phase, boot times, and each VM's counters (vCPU exits,
 * block and network bytes, rate-limiter throttling) through {@link
 * dev.hearth.agent.metrics.VmMeters}. Uses Micrometer and the API model's phases.
 */
package dev.hearth.agent.metrics;
