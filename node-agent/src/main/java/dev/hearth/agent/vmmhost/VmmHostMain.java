package dev.hearth.agent.vmmhost;

import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.vmm.config.SeccompMode;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The VMM process a {@link VmmProcessRuntime} starts: {@code VmmHostMain <name> <vsock-dir>
 * <seccomp-mode>}; its main thread takes the name, which its log lines show. Frames come on stdin
 * and go out on stdout, so nothing else may write there: the process's {@code System.out} is
 * pointed at stderr, where its logs go too.
 */
public final class VmmHostMain {
  // How long a signal (SIGTERM to the agent's whole cgroup, say) waits for the agent to finish
  // with this process's VMs (suspend them, stop them) before the process ends anyway.
  private static final Duration SIGNAL_GRACE = Duration.ofMinutes(2);

  private VmmHostMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: VmmHostMain <name> <vsock-dir> <ENFORCE|LOG|OFF>");
      System.exit(2);
    }
    Thread.currentThread().setName(args[0]);
    serve(new VmmRuntime(Path.of(args[1]), SeccompMode.valueOf(args[2])));
  }

  /**
   * Serves the agent on stdin and stdout with {@code runtime} until the agent closes its end, then
   * exits the JVM. A signal (SIGTERM to the agent's whole cgroup, say) does not end the VMs under
   * the agent's feet: the process serves on until the agent closes its end, or {@link
   * #SIGNAL_GRACE} has passed.
   */
  static void serve(VmRuntime runtime) throws IOException {
    OutputStream frames = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
    VmmHost host =
        new VmmHost(
            runtime, new BufferedInputStream(new FileInputStream(FileDescriptor.in)), frames);
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .unstarted(
                    () -> {
                      try {
                        host.awaitServed(SIGNAL_GRACE);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }));
    host.serve();
    System.exit(0);
  }
}
