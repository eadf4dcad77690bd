package dev.hearth.agent.image;

import java.util.Set;

/**
 * How the node pulls OCI images: set by the node's administrator, never by a tenant.
 *
 * @param plainHttpRegistries registries (host[:port]) reached over plain http instead of https:
 *     none by default (the agent's {@code --insecure-registry}); meant for a registry on the node's
 *     own network, such as a test registry on loopback
 * @param maxUnpackedBytes the most an image may unpack to (its files' sizes together)
 * @param maxEntries the most entries an image's layers may hold together
 * @param headroomBytes free space added to a root disk made from an image, for the guest to use
 */
public record OciSettings(
    Set<String> plainHttpRegistries, long maxUnpackedBytes, long maxEntries, long headroomBytes) {
  /** https only, 8 GiB unpacked, a million entries, 256 MiB free in each root disk. */
  public static final OciSettings DEFAULT =
      new OciSettings(Set.of(), 8L << 30, 1_000_000, 256L << 20);

  public OciSettings {
    plainHttpRegistries = Set.copyOf(plainHttpRegistries);
  }

  /** These settings with {@code registries} reached over plain http. */
  public OciSettings withPlainHttp(Set<String> registries) {
    return new OciSettings(registries, maxUnpackedBytes, maxEntries, headroomBytes);
  }
}
