/**
 * Guest networking on the node: taps, the bridge, firewall rules and network namespaces, driven by
 * {@code ip}/{@code nft} commands and TUN ioctls. {@link dev.hearth.agent.net.GuestNetwork} is what
 * the reconcile logic sees. Uses IPAM and the VMM's libc bindings ({@code vmm.sys}); no Kubernetes
 * client.
 */
package dev.hearth.agent.net;
