/**
 * The one way from a MicroVM spec to the VMM, for the node agent and {@code hearth run} alike:
 * {@link dev.hearth.agent.spec.SpecMapper} checks a spec and makes a {@link
 * dev.hearth.agent.spec.VmPlan}; {@link dev.hearth.agent.spec.LaunchImages} resolves its images
 * through an injected {@link dev.hearth.agent.spec.PlanImages} (the node's images root and cache,
 * or hearth run's folder) and gives writable disks their own copies; the runtime's {@code
 * VmmRuntime.config} makes the VMM's configuration. Uses the API model, the image package and the
 * runtime's launch description; knows nothing of Kubernetes clients or the network.
 */
package dev.hearth.agent.spec;
