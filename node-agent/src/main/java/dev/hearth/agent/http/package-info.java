/**
 * The agent's HTTPS server: health and readiness (open), Prometheus metrics and the VM consoles
 * (read, or interactive over a WebSocket), the last two for callers that {@code auth} lets in. A
 * small HTTP/1.1 server of its own on the JDK's TLS sockets, since the JDK's HTTP server cannot
 * upgrade to a WebSocket. Uses the console buffers, the metrics, {@code tls} and {@code auth}; no
 * Kubernetes client of its own.
 */
package dev.hearth.agent.http;
