/**
 * Each VM's serial console on this node: its output held once in a bounded ring buffer per VM
 * ({@link dev.hearth.agent.console.ConsoleBuffer}) that the HTTPS server's followers read, the way
 * to the running VM's serial input, and where the agent serves them (the API model's {@code
 * ConsoleEndpoint}). Depends on nothing else of Hearth but the API model.
 */
package dev.hearth.agent.console;
