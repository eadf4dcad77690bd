/**
 * The agent's HTTP server: health and readiness, Prometheus metrics and the VM consoles. Uses the
 * JDK's HTTP server, the console buffers and the metrics; no Kubernetes client.
 */
package dev.hearth.agent.http;
