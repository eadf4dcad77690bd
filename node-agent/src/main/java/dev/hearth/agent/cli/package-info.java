/**
 * The {@code hearth} command line (picocli): {@code hearth agent}, {@code hearth run} and {@code
 * hearth console}, each a thin layer that parses options and calls the package that does the work
 * ({@code daemon}, {@code run}, the agent's HTTP console). The only package that may print to the
 * terminal or choose an exit status.
 */
package dev.hearth.agent.cli;
