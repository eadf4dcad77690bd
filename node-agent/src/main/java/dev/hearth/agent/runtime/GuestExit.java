package dev.hearth.agent.runtime;

/**
 * Why a VM stopped. {@code reason} is CamelCase for the status (Shutdown, Reset, InternalError,
 * Stopped, ...); {@code success} says whether restartPolicy OnFailure counts it as a failure.
 */
public record GuestExit(String reason, String message, boolean success) {}
