package dev.hearth.agent.spec;

import dev.hearth.api.v1alpha1.HearthApi;

/**
 * A spec the agent will not run: {@code InvalidSpec} (the schema or its CEL rules should have
 * refused it) or {@code UnsupportedSpec} (valid, but this node's VMM cannot do it).
 */
public class SpecRejectedException extends Exception {
  public static final String INVALID = HearthApi.Reasons.INVALID_SPEC;
  public static final String UNSUPPORTED = HearthApi.Reasons.UNSUPPORTED_SPEC;

  private final String reason;

  public SpecRejectedException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
