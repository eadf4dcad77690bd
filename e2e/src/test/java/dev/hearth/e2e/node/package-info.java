/**
 * The real-node layer: the chart installed with helm on a real kubelet node of this host ({@code
 * test-cluster/node.sh}, containerd), its pods Ready through their own probes and RBAC, the
 * examples applied with kubectl, then helm upgrade and uninstall leaving nothing behind.
 */
package dev.hearth.e2e.node;
