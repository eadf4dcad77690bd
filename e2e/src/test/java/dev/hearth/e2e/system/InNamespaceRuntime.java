package dev.hearth.e2e.system;

import dev.hearth.agent.net.NetNamespace;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;

/**
 * A node's VM runtime for a node whose network lives in a namespace of its own: each VM starts
 * inside that namespace, so that the VMM, which opens a VM's taps by name, finds the taps the agent
 * made there (a TUNSETIFF in another namespace would make a new, unconnected tap). A tap fd, once
 * open, stays in its namespace, and the VM's threads inherit it from the starting thread.
 */
record InNamespaceRuntime(VmRuntime delegate, String netns) implements VmRuntime {
  @Override
  public Capabilities capabilities() {
    return delegate.capabilities();
  }

  @Override
  public RunningVm start(VmLaunch launch) throws VmStartException {
    Started started =
        NetNamespace.call(
            NetNamespace.named(netns),
            () -> {
              try {
                return new Started(delegate.start(launch), null);
              } catch (VmStartException e) {
                return new Started(null, e);
              }
            });
    if (started.failure() != null) {
      throw started.failure();
    }
    return started.vm();
  }

  @Override
  public RunningVm restore(java.nio.file.Path dir, VmLaunch launch) throws VmStartException {
    Started started =
        NetNamespace.call(
            NetNamespace.named(netns),
            () -> {
              try {
                return new Started(delegate.restore(dir, launch), null);
              } catch (VmStartException e) {
                return new Started(null, e);
              }
            });
    if (started.failure() != null) {
      throw started.failure();
    }
    return started.vm();
  }

  private record Started(RunningVm vm, VmStartException failure) {}

  @Override
  public void close() {
    delegate().close();
  }
}
