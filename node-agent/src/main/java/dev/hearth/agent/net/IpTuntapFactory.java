package dev.hearth.agent.net;

/**
 * Taps through {@code ip tuntap}, which creates them with the TUN ioctls (TUNSETIFF,
 * TUNSETPERSIST).
 */
public final class IpTuntapFactory implements TapFactory {
  private final CommandRunner commands;

  public IpTuntapFactory(CommandRunner commands) {
    this.commands = commands;
  }

  @Override
  public void create(String name) {
    commands.run("ip", "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr");
  }

  @Override
  public void delete(String name) {
    try {
      commands.run("ip", "link", "del", "dev", name);
    } catch (NetworkException e) {
      if (!e.getMessage().contains("Cannot find device")) {
        throw e;
      }
    }
  }
}
