package dev.hearth.vmm.sys.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The filters on the real kernel: each runs on a thread of its own (a filter stays with its thread
 * for life), and the test thread itself stays unfiltered.
 */
class ThreadSandboxTest {
  private static final int EPERM = 1;

  /** Runs {@code body} on a new platform thread after it entered {@code profile}. */
  private static List<String> inSandbox(ThreadProfile profile, SeccompMode mode, Body body)
      throws Exception {
    CompletableFuture<List<String>> result = new CompletableFuture<>();
    Thread.ofPlatform()
        .name("sandbox-test-" + profile)
        .start(
            () -> {
              try {
                ThreadSandbox.of(mode).enter(profile);
                List<String> outcomes = new ArrayList<>();
                body.run(outcomes);
                result.complete(outcomes);
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result.get(30, TimeUnit.SECONDS);
  }

  @FunctionalInterface
  interface Body {
    void run(List<String> outcomes) throws Exception;
  }

  private static String attempt(ThrowingCall call) {
    try {
      call.run();
      return "allowed";
    } catch (SysException e) {
      return e.errno() == EPERM ? "EPERM" : "errno " + e.errno();
    } catch (Exception e) {
      return e.toString();
    }
  }

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws Exception;
  }

  @Test
  void aFilteredThreadCannotOpenFilesOrSocketsButTheJvmRunsOnIt() throws Exception {
    Path file = Files.createTempFile("seccomp", ".txt");
    try {
      List<String> got =
          inSandbox(
              ThreadProfile.VCPU,
              SeccompMode.ENFORCE,
              out -> {
                out.add(attempt(() -> LibC.close(LibC.open(file.toString(), 0))));
                out.add(attempt(() -> LibC.close(LibC.socket(2, 1, 0))));
                out.add(attempt(() -> LibC.close(LibC.socket(1, 1, 0))));
                out.add(
                    attempt(
                        () ->
                            LibC.munmap(
                                LibC.mmap(
                                    4096,
                                    LibC.PROT_READ | LibC.PROT_WRITE | 4,
                                    LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS,
                                    -1,
                                    0))));
                // What the JVM needs goes on: memory, parking, time, a thread's own work.
                out.add(
                    attempt(
                        () ->
                            LibC.munmap(
                                LibC.mmap(
                                    1 << 20,
                                    LibC.PROT_READ | LibC.PROT_WRITE,
                                    LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS,
                                    -1,
                                    0))));
                // A thread started here would inherit the filter: creating one is denied.
                try {
                  Thread.ofPlatform().start(() -> {}).join();
                  out.add("thread started");
                } catch (Throwable t) {
                  out.add("thread refused: " + t);
                }
                // VMM classes were loaded before the filter went on: one first used here loads.
                out.add(Class.forName("dev.hearth.vmm.vm.RegisterDump").getSimpleName());
                LockSupport.parkNanos(1_000_000);
                byte[][] garbage = new byte[2000][];
                for (int i = 0; i < garbage.length; i++) {
                  garbage[i] = new byte[64 * 1024];
                }
                System.gc();
                out.add("ran " + garbage.length + " allocations at " + System.nanoTime());
              });
      // An executable mapping is allowed: the JVM commits its code cache on any thread.
      assertThat(got.subList(0, 5))
          .containsExactly("EPERM", "EPERM", "EPERM", "allowed", "allowed");
      assertThat(got.get(5)).startsWith("thread refused: java.lang.OutOfMemoryError");
      assertThat(got.get(6)).isEqualTo("RegisterDump");
      assertThat(got.get(7)).startsWith("ran 2000 allocations");
      // No TSYNC: the test's own thread is not filtered.
      LibC.close(LibC.open(file.toString(), 0));
    } finally {
      Files.delete(file);
    }
  }

  @Test
  void theDeviceLoopMayOpenUnixSocketsOnly() throws Exception {
    List<String> got =
        inSandbox(
            ThreadProfile.DEVICE_LOOP,
            SeccompMode.ENFORCE,
            out -> {
              out.add(attempt(() -> LibC.close(LibC.socket(1, 1, 0))));
              out.add(attempt(() -> LibC.close(LibC.socket(2, 2, 0))));
              out.add(attempt(() -> LibC.close(LibC.open("/etc/hostname", 0))));
            });
    assertThat(got).containsExactly("allowed", "EPERM", "EPERM");
  }

  @Test
  void logModeAllowsEverythingAndOffInstallsNothing() throws Exception {
    assertThat(
            inSandbox(
                ThreadProfile.VCPU,
                SeccompMode.LOG,
                out -> out.add(attempt(() -> LibC.close(LibC.socket(2, 1, 0))))))
        .containsExactly("allowed");
    assertThat(
            inSandbox(
                ThreadProfile.VCPU,
                SeccompMode.OFF,
                out -> out.add(Files.readString(Path.of("/proc/thread-self/status")))))
        .singleElement()
        .asString()
        .contains("Seccomp:\t0");
  }

  @Test
  void aThreadThatEnteredAProfileKeepsItsOneFilterAndMayRenameItself() throws Exception {
    CountDownLatch ready = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread.ofPlatform()
        .name("sandbox-test-twice")
        .start(
            () -> {
              try {
                ThreadSandbox sandbox = ThreadSandbox.of(SeccompMode.ENFORCE);
                sandbox.enter(ThreadProfile.VCPU);
                // A kept vCPU thread enters again for its next VM: no second filter goes on.
                sandbox.enter(ThreadProfile.VCPU);
                Thread.currentThread().setName("vcpu-renamed-0");
                ready.countDown();
                release.await();
                done.complete(null);
              } catch (Throwable t) {
                done.completeExceptionally(t);
              }
            });
    try {
      assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
      // Read from outside: the filtered thread cannot open /proc files itself.
      assertThat(statusOf("vcpu-renamed-0"))
          .contains("Seccomp:\t2")
          .contains("Seccomp_filters:\t1");
    } finally {
      release.countDown();
    }
    done.get(30, TimeUnit.SECONDS);
  }

  /** The /proc status of this JVM's thread whose kernel name is {@code comm}. */
  private static String statusOf(String comm) throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        if (Files.readString(task.resolve("comm")).strip().equals(comm)) {
          return Files.readString(task.resolve("status"));
        }
      }
    }
    return "no thread named " + comm;
  }
}
