package dev.hearth.agent.net;

/**
 * Creates and deletes the persistent tap devices that back guest network interfaces, each with
 * {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}. The VMM later attaches to a tap by name with
 * TUNSETIFF. Implementations: {@link IpTuntapFactory} (iproute2, which issues TUNSETIFF and
 * TUNSETPERSIST itself); an FFM implementation on the VMM's TUN ioctls can replace it.
 */
public interface TapFactory {
  /** Creates tap {@code name}; fails if it exists. */
  void create(String name);

  /** Deletes tap {@code name}; a no-op if it does not exist. */
  void delete(String name);
}
