/**
 * The scheduler as pure functions: candidates, resources, tolerations and the spread or pack
 * choice. Depends on nothing of Kubernetes or Hearth, so it is tested without a cluster.
 */
package dev.hearth.operator.scheduling;
