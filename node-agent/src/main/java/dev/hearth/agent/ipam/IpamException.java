package dev.hearth.agent.ipam;

/** IPAM failures: an exhausted subnet, an unreadable or unwritable state file. */
public class IpamException extends RuntimeException {
  public IpamException(String message) {
    super(message);
  }

  public IpamException(String message, Throwable cause) {
    super(message, cause);
  }
}
