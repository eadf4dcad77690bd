package dev.hearth.vmm.config;

/** A VM configuration value that is missing or invalid; the message names the field. */
public class ConfigException extends IllegalArgumentException {
  private final String field;

  public ConfigException(String field, String problem) {
    super(field + ": " + problem);
    this.field = field;
  }

  /** The offending field, as a dotted path ({@code boot.kernel}). */
  public String field() {
    return field;
  }
}
