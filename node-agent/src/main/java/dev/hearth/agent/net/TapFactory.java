package dev.hearth.agent.net;

/**
 * Creates and deletes the persistent tap devices that back guest network interfaces, each with
 * {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}. The VMM later attaches to a tap by name with
 * TUNSETIFF. {@link TunTapFactory} is the implementation; tests may wrap it to inject failures.
 */
public interface TapFactory {
  /** Creates tap {@code name}; fails if it exists. */
  void create(String name);

  /** Deletes tap {@code name}; a no-op if it does not exist. */
  void delete(String name);
}
