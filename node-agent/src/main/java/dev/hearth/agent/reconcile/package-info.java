/**
 * The agent's reconcile loop: an informer on this node's MicroVMs, one serial executor and one
 * {@link dev.hearth.agent.reconcile.VmSupervisor} per VM (an explicit {@link
 * dev.hearth.agent.reconcile.SupervisorState} machine, held by {@code RunTracker}), the parts it
 * hands work to (launching guests, run-state changes, readiness, restarts, reports), the launch
 * preparation and the one status writer. May use the Kubernetes client and every agent package
 * below the daemon; reaches the VMM only through {@code runtime.VmRuntime}.
 */
package dev.hearth.agent.reconcile;
