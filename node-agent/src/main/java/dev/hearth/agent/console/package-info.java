/**
 * Each VM's serial console output on this node, held once in a bounded ring buffer per VM ({@link
 * dev.hearth.agent.console.ConsoleBuffer}) that the HTTP server's followers read. Depends on
 * nothing else of Hearth.
 */
package dev.hearth.agent.console;
