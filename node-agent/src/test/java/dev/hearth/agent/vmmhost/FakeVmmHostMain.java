package dev.hearth.agent.vmmhost;

import dev.hearth.agent.testing.FakeVmRuntime;

/**
 * A VMM process whose runtime boots nothing ({@link FakeVmRuntime}), for testing the agent's side
 * of VMM processes without KVM: the same {@link VmmHostMain#serve}, the same frames.
 */
public final class FakeVmmHostMain {
  private FakeVmmHostMain() {}

  public static void main(String[] args) throws Exception {
    VmmHostMain.serve(new FakeVmRuntime());
  }
}
