/**
 * Kernel, initrd and disk images on the node: files under the node's images root, http(s) downloads
 * checked against their sha256, and OCI images pulled from a registry (every blob checked by
 * digest; layers, gzip or zstd, unpacked with whiteouts, owners, modes, links and extended
 * attributes into an ext4 or one file taken from them), all cached with owners per VM, and writable
 * copies for a VM's own disks. Every path, URL and layer comes from a tenant and is checked. Uses
 * the agent's private files and the API model's reason names; no VMM.
 */
package dev.hearth.agent.image;
