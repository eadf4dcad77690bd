/**
 * What happens after a guest exits: restart policy and exponential back-off ({@link
 * dev.hearth.agent.lifecycle.RestartBackoff}), shared by the agent and {@code hearth run}. Uses the
 * API model's phases and policies only.
 */
package dev.hearth.agent.lifecycle;
