/**
 * IPv4 address management for guests: a node subnet ({@link dev.hearth.agent.ipam.Cidr}) and the
 * persisted allocation of one address per VM interface ({@link dev.hearth.agent.ipam.Ipam}). Uses
 * only the agent's state files.
 */
package dev.hearth.agent.ipam;
