/**
 * Kernel, initrd and disk images on the node: files under the node's images root, and http(s)
 * downloads checked against their sha256 and cached with owners per VM, and writable copies for a
 * VM's own disks. Every path and URL comes from a tenant and is checked. Uses the agent's private
 * files and the API model's reason names; no Kubernetes client, no VMM.
 */
package dev.hearth.agent.image;
