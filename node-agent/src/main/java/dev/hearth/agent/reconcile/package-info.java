/**
 * The agent's reconcile loop: an informer on this node's MicroVMs, one serial executor and one
 * {@link dev.hearth.agent.reconcile.VmSupervisor} per VM (an explicit {@link
 * dev.hearth.agent.reconcile.SupervisorState} machine), the launch preparation and the one status
 * writer. May use the Kubernetes client and every agent package below the daemon; reaches the VMM
 * only through {@code runtime.VmRuntime}.
 */
package dev.hearth.agent.reconcile;
