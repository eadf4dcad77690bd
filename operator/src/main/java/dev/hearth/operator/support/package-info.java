/**
 * What the operator's reconcilers share: the one status writer ({@link
 * dev.hearth.operator.support.StatusPatch}), MicroVM predicates and the operator's metrics. Uses
 * the API model and writers, the client and Micrometer.
 */
package dev.hearth.operator.support;
