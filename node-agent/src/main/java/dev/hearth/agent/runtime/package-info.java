/**
 * What boots VMs for the agent: the {@link dev.hearth.agent.runtime.VmRuntime} interface that the
 * reconcile logic depends on (tested with a fake), the launch description, and {@link
 * dev.hearth.agent.runtime.VmmRuntime}, the one translation from a launch to the embedded VMM. The
 * only agent package besides {@code run} that uses the VMM.
 */
package dev.hearth.agent.runtime;
