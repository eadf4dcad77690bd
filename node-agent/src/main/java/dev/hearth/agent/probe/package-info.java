/**
 * Readiness probes: the agent connects to a TCP port of each running guest that declares {@code
 * spec.readinessProbe}, and reports the outcome as the VM's Ready condition, which decides whether
 * the VM is an endpoint of the Services that select it.
 */
package dev.hearth.agent.probe;
