package dev.hearth.agent.vmmhost;

import dev.hearth.agent.testing.FakeVmRuntime;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;

/**
 * A VMM process whose runtime boots nothing ({@link FakeVmRuntime}), for testing the agent's side
 * of VMM processes without KVM: the same {@link VmmHost}, the same frames.
 */
public final class FakeVmmHostMain {
  private FakeVmmHostMain() {}

  public static void main(String[] args) throws Exception {
    new VmmHost(
            new FakeVmRuntime(),
            new BufferedInputStream(new FileInputStream(FileDescriptor.in)),
            new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)))
        .serve();
    System.exit(0);
  }
}
