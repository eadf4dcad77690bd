/**
 * This node as the cluster sees it: its MicroVMNode registration (capacity, KVM facts), its Lease
 * renewal, and the fence that stops VMs when the Lease cannot be renewed. Uses the Kubernetes
 * client, the API model and the API writers.
 */
package dev.hearth.agent.node;
