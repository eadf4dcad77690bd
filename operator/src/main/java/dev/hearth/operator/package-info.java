/**
 * The operator process: command line, configuration, the JOSDK operator with its reconcilers, the
 * HTTP server for health and metrics, and the uninstall clean-up. The composition root; may use
 * every operator package. Never the VMM.
 */
package dev.hearth.operator;
