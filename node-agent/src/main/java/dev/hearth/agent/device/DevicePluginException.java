package dev.hearth.agent.device;

/** The device plugin could not serve or register: which socket, which resource and why. */
public final class DevicePluginException extends RuntimeException {
  public DevicePluginException(String message) {
    super(message);
  }

  public DevicePluginException(String message, Throwable cause) {
    super(message, cause);
  }
}
