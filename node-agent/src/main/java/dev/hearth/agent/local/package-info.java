/**
 * {@code hearth run} (named {@code local} so that it is not read as {@code runtime}): one
 * manifest's VM on this machine without a cluster: reads and validates the manifest as the API
 * server would, maps it with the agent's spec mapper, wires a local network and supervises the VM
 * under its restart policy. Uses the agent's spec, image, network, lifecycle and runtime packages
 * and the VMM directly; no Kubernetes client.
 */
package dev.hearth.agent.local;
