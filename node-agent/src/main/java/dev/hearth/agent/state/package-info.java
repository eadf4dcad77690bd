/**
 * Files the agent keeps on the node: atomic replacement and owner-only (0700/0600) creation, for
 * state and tenant data. Depends on nothing else of Hearth.
 */
package dev.hearth.agent.state;
