/**
 * MicroVMNode reconciliation: node health from the agents' Leases, and node loss (VMs marked
 * Unknown, rescheduled after a grace period, finalizers removed for a dead agent). Uses the support
 * and microvm packages, the API model and writers, the client and JOSDK.
 */
package dev.hearth.operator.node;
