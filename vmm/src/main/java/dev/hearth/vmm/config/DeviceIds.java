package dev.hearth.vmm.config;

import java.util.regex.Pattern;

/** The rule for device ids, shared by every device record. */
final class DeviceIds {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,63}");

  private DeviceIds() {}

  /** Fails unless {@code id} is 1 to 63 letters, digits, '_' or '-'. */
  static void check(String list, String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new ConfigException(
          list + "[].id", "'" + id + "' must be 1 to 63 letters, digits, '_' or '-'");
    }
  }
}
