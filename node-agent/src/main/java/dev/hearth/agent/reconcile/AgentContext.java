package dev.hearth.agent.reconcile;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.spec.ContainerBoot;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;

/**
 * What the agent's reconcile logic works with.
 *
 * @param stateDir per-VM working files live under {@code stateDir/vms/<uid>/}
 * @param stopGrace how long a VM gets to shut down before it is stopped hard
 * @param fds the file descriptors VMs may hold in this process
 * @param vmWritableBytes the most a VM's writable disk copies may take of the node's disk together
 * @param containerBoot the node's kernel and initramfs for {@code spec.container} VMs
 */
public record AgentContext(
    String nodeName,
    KubernetesClient client,
    VmRuntime runtime,
    GuestNetwork network,
    ImageCache images,
    ConsoleRegistry consoles,
    AgentMetrics metrics,
    Path stateDir,
    RestartBackoff.Config backoff,
    Duration stopGrace,
    InstantSource clock,
    long vmWritableBytes,
    FdBudget fds,
    ContainerBoot containerBoot) {

  /** As the canonical constructor, container VMs booting {@link ContainerBoot#DEFAULT}. */
  public AgentContext(
      String nodeName,
      KubernetesClient client,
      VmRuntime runtime,
      GuestNetwork network,
      ImageCache images,
      ConsoleRegistry consoles,
      AgentMetrics metrics,
      Path stateDir,
      RestartBackoff.Config backoff,
      Duration stopGrace,
      InstantSource clock,
      long vmWritableBytes,
      FdBudget fds) {
    this(
        nodeName,
        client,
        runtime,
        network,
        images,
        consoles,
        metrics,
        stateDir,
        backoff,
        stopGrace,
        clock,
        vmWritableBytes,
        fds,
        ContainerBoot.DEFAULT);
  }

  public AgentContext {
    if (vmWritableBytes <= 0) {
      throw new IllegalArgumentException(
          "writable disk bound " + vmWritableBytes + " is not positive");
    }
  }

  public Path vmDir(String uid) {
    return stateDir.resolve("vms").resolve(uid);
  }
}
