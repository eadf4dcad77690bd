package dev.hearth.api.v1alpha1;

/** The transport protocol of an egress port, as in a Kubernetes NetworkPolicy. */
public enum EgressProtocol {
  /** TCP. */
  TCP,
  /** UDP. */
  UDP
}
