package dev.hearth.agent.vmmhost;

import dev.hearth.agent.testing.FakeVmRuntime;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A VMM process whose runtime boots nothing ({@link FakeVmRuntime}), for testing the agent's side
 * of VMM processes without KVM: the same {@link VmmHostMain#serve}, the same frames.
 */
public final class FakeVmmHostMain {
  private FakeVmmHostMain() {}

  /** With {@code crash}, the JVM crashes (SIGSEGV) a second after it starts serving. */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("crash")) {
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
                crash();
              });
    }
    VmmHostMain.serve(new FakeVmRuntime());
  }

  @SuppressWarnings("restricted")
  private static void crash() {
    MemorySegment.ofAddress(0).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, 1L);
  }
}
