/**
 * MicroVM reconciliation: scheduling a VM onto a node and binding it (status.nodeName, node label,
 * agent finalizer) at most once, through guarded writes. Uses the scheduler, the support package,
 * the API model and writers, the Kubernetes client and JOSDK.
 */
package dev.hearth.operator.microvm;
