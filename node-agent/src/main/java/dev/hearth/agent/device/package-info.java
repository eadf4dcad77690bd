/**
 * {@code hearth device-plugin}: a kubelet device plugin that hands {@code /dev/kvm} and {@code
 * /dev/net/tun} to the agent's container as the extended resources {@code hearth.dev/kvm} and
 * {@code hearth.dev/tun}, so that the agent runs without {@code privileged}. The container runtime
 * then creates the device nodes and allows exactly them in the container's device cgroup, which a
 * hostPath mount alone does not.
 */
package dev.hearth.agent.device;
