/**
 * MicroVMSet reconciliation: replicas of a template, scaled up and down, with the status that the
 * scale subresource reads. Uses the support package, the API model and writers, the client and
 * JOSDK.
 */
package dev.hearth.operator.set;
