package dev.hearth.agent.image;

import java.util.List;

/**
 * Reads the registry credentials of named image pull Secrets, in the namespace of the VM that names
 * them. The agent reads only the Secrets a VM bound to its node names, one by one: never a list.
 */
@FunctionalInterface
public interface PullSecrets {
  /** No Secrets: anonymous pulls only ({@code hearth run}, tests). */
  PullSecrets NONE = names -> List.of();

  /**
   * The credentials in the Secrets {@code names}, in order.
   *
   * @throws ImageException when a named Secret is missing or holds no docker config
   */
  List<RegistryCredential> load(List<String> names) throws ImageException;
}
