/**
 * Who may use the agent's HTTPS endpoints, decided by the API server as the kubelet decides it for
 * exec and logs: the caller's bearer token through a TokenReview, then a SubjectAccessReview for
 * that user on the VM's {@code microvms/console} in group {@code hearth.dev}, or on the
 * non-resource path {@code /metrics}. The agent's own ServiceAccount may create both reviews and
 * nothing it learns from them.
 */
package dev.hearth.agent.auth;
