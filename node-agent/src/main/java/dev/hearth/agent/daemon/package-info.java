/**
 * The {@code hearth agent} process: wires the node's network, images, runtime, reconcile loop,
 * lease, registration and HTTP server together, and takes them down in order. The composition root
 * of the agent; may use every agent package, the API model and the Kubernetes client.
 */
package dev.hearth.agent.daemon;
