package dev.hearth.agent.console;

import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The console buffers of the node's VMs, by {@code namespace/name}, and where the agent serves them
 * ({@link #endpoint}, written to each running VM's status). A VM keeps one buffer across restarts,
 * so its console shows why the last run ended.
 */
public final class ConsoleRegistry {
  private final int capacityBytes;
  private final ConcurrentMap<String, ConsoleBuffer> buffers = new ConcurrentHashMap<>();
  private volatile ConsoleEndpoint endpoint;

  public ConsoleRegistry(int capacityBytes) {
    this.capacityBytes = capacityBytes;
  }

  /** Where the agent serves consoles, once its HTTPS server runs (set before VMs start). */
  public void publish(ConsoleEndpoint served) {
    endpoint = served;
  }

  /** Where consoles are served; empty when no address to advertise is known. */
  public Optional<ConsoleEndpoint> endpoint() {
    return Optional.ofNullable(endpoint);
  }

  /** The VM's buffer, created on first use. */
  public ConsoleBuffer open(String namespace, String name) {
    return buffers.computeIfAbsent(key(namespace, name), k -> new ConsoleBuffer(capacityBytes));
  }

  public Optional<ConsoleBuffer> find(String namespace, String name) {
    return Optional.ofNullable(buffers.get(key(namespace, name)));
  }

  /** Forgets the VM's buffer and ends its followers. */
  public void remove(String namespace, String name) {
    ConsoleBuffer b = buffers.remove(key(namespace, name));
    if (b != null) {
      b.close();
    }
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }
}
