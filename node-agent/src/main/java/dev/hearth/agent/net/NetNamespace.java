package dev.hearth.agent.net;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
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
  private static final int CLONE_NEWNET = 0x40000000;
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle SETNS =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker().defaultLookup().find("setns").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
              Linker.Option.captureCallState("errno"));

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
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      int r = (int) SETNS.invokeExact(state, fd, CLONE_NEWNET);
      if (r < 0) {
        int errno = (int) ERRNO.get(state, 0L);
        throw new NetworkException(
            "setns(" + netnsFile + ", CLONE_NEWNET) failed: " + LibC.strerror(errno));
      }
    } catch (NetworkException | SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    } finally {
      LibC.close(fd);
    }
  }
}
