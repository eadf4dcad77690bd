package dev.hearth.agent.auth;

/** What the API server decided about one request to the agent. */
public sealed interface Access {
  /** The caller, {@code user}, may do what it asked. */
  record Allowed(String user) implements Access {}

  /** No token, or one the API server does not accept: HTTP 401. */
  record Unauthenticated(String why) implements Access {}

  /** A known user without the permission: HTTP 403. */
  record Forbidden(String user, String why) implements Access {}

  /** The API server could not be asked: HTTP 503 (never allowed by default). */
  record Unavailable(String why) implements Access {}
}
