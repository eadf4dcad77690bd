package dev.hearth.agent.net;

import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a piece of code inside a named network namespace ({@code /var/run/netns/<name>}, as {@code
 * ip netns add} makes). A network namespace belongs to a thread, so the code runs on a fresh
 * platform thread that {@code setns}es first and ends afterwards; no other JVM thread moves.
 * Threads that code starts inherit the namespace, and a socket or tap fd it opens stays in it.
 */
public final class NetNamespace {
  private NetNamespace() {}

  /** The file {@code ip netns add <name>} makes for the namespace {@code name}. */
  public static Path named(String name) {
    return Path.of("/var/run/netns", name);
  }

  /**
   * Runs {@code body} in the namespace {@code netnsFile} and returns its result; its unchecked
   * exceptions pass through, checked ones become a {@link NetworkException} with it as the cause.
   */
  public static <T> T call(Path netnsFile, Callable<T> body) {
    AtomicReference<Object> result = new AtomicReference<>();
    Thread t =
        Thread.ofPlatform()
            .name("hearth-netns")
            .unstarted(
                () -> {
                  try {
                    enter(netnsFile);
                    result.set(new Ok(body.call()));
                  } catch (Exception | Error e) {
                    result.set(e);
                  }
                });
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException("interrupted in network namespace " + netnsFile, e);
    }
    Object r = result.get();
    if (r instanceof RuntimeException e) {
      throw e;
    }
    if (r instanceof Error e) {
      throw e;
    }
    if (r instanceof Exception e) {
      throw new NetworkException(e.getMessage(), e);
    }
    @SuppressWarnings("unchecked")
    T value = (T) ((Ok) r).value();
    return value;
  }

  private record Ok(Object value) {}

  private static void enter(Path netnsFile) {
    int fd = LibC.open(netnsFile.toString(), LibC.O_CLOEXEC);
    try {
      LibC.setns(fd, LibC.CLONE_NEWNET);
    } catch (SysException e) {
      throw new NetworkException(
          "setns(" + netnsFile + ", CLONE_NEWNET) failed: " + e.getMessage(), e);
    } finally {
      LibC.close(fd);
    }
  }
}
