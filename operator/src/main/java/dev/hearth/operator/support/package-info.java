/**
 * What the operator's reconcilers share: the one status writer ({@link
 * dev.hearth.operator.support.StatusPatch}), the one MicroVM informer ({@link
 * dev.hearth.operator.support.SharedMicroVMs}), MicroVM predicates and the operator's metrics. Uses
 * the API model and writers, the client, JOSDK and Micrometer.
 */
package dev.hearth.operator.support;
