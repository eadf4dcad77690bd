/**
 * VM networking across the cluster: each MicroVMNode's guest subnet, allocated from the cluster
 * range ({@link dev.hearth.operator.network.SubnetAllocator}), and the EndpointSlices that put
 * Ready MicroVMs behind the Services that select them.
 */
package dev.hearth.operator.network;
