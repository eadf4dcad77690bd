package dev.hearth.agent.vmmhost;

import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.api.v1alpha1.HearthApi;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VMM process as the agent sees it: the child, the frames to it, and a reader thread that hands
 * what comes back to the {@link RemoteVm}s and waiting requests. When the child ends, or breaks the
 * protocol (it is killed then), every request waiting on it fails and every VM it ran exits with
 * {@code VmmError}.
 */
final class VmmProcess implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(VmmProcess.class);
  // How long a child that broke the protocol may take to exit by itself (a crash report).
  private static final Duration CRASH_REPORT_GRACE = Duration.ofSeconds(2);
  private static final Duration HELLO_TIMEOUT = Duration.ofSeconds(60);
  // Every variable a JVM reads options from.
  private static final List<String> INHERITED_JVM_OPTIONS =
      List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

  /** A reply to a request: {@code ok}, or the reason and message of a failure. */
  record Reply(boolean ok, int value, String reason, String message) {
    /** This reply, or its failure as the exception it stands for. */
    Reply orThrow() throws VmStartException {
      if (!ok) {
        throw new VmStartException(reason, message, null);
      }
      return this;
    }
  }

  private final String name;
  private final Process process;
  private final OutputStream toChild;
  private final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
  private final Map<Integer, RemoteVm> vms = new ConcurrentHashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicInteger keys = new AtomicInteger();
  private final AtomicInteger reserved = new AtomicInteger();
  private final CompletableFuture<Long> hello = new CompletableFuture<>();
  private final CompletableFuture<String> ended = new CompletableFuture<>();

  private VmmProcess(String name, Process process) {
    this.name = name;
    this.process = process;
    this.toChild = new BufferedOutputStream(process.getOutputStream());
  }

  /** Starts the child with {@code command} and waits for its greeting. */
  static VmmProcess start(String name, List<String> command) throws VmmHostException {
    Process p;
    try {
      ProcessBuilder b = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
      // Options meant for the agent's JVM (the chart's agent.javaOpts is JAVA_TOOL_OPTIONS) are
      // not the child's: a logging or recording option there would write to its stdout.
      INHERITED_JVM_OPTIONS.forEach(b.environment()::remove);
      p = b.start();
    } catch (IOException e) {
      throw new VmmHostException("cannot start VMM process " + name + ": " + e.getMessage(), e);
    }
    VmmProcess vp = new VmmProcess(name, p);
    Thread.ofPlatform()
        .name("hearth-" + name + "-reader")
        .daemon(true)
        .start(() -> vp.read(new BufferedInputStream(p.getInputStream())));
    try {
      long pid = vp.hello.get(HELLO_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      LOG.info("VMM process {} started (pid {})", name, pid);
      return vp;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      vp.kill("interrupted while it started");
      throw new VmmHostException("interrupted starting VMM process " + name);
    } catch (TimeoutException e) {
      vp.kill("it did not greet within " + HELLO_TIMEOUT.toSeconds() + " s");
      throw new VmmHostException(
          "VMM process " + name + " did not start: " + vp.ended.getNow(String.valueOf(e)), e);
    } catch (ExecutionException e) {
      // It ended, or broke the protocol and was killed: the reader said which.
      throw new VmmHostException(
          "VMM process " + name + " did not start: " + e.getCause().getMessage(), e);
    }
  }

  long pid() {
    return process.pid();
  }

  /**
   * Where the JVM of VMM process {@code name} writes its report if it crashes ({@code
   * -XX:ErrorFile}; {@code %p} is its pid): in the temporary directory, not the working directory
   * it inherits, which a container may not let it write.
   */
  static String crashReportPattern(String name) {
    return Path.of(System.getProperty("java.io.tmpdir"), "hearth-" + name + "-hs_err_pid%p.log")
        .toString();
  }

  /** The crash report VMM process {@code name} with {@code pid} would have written. */
  static Path crashReport(String name, long pid) {
    return Path.of(crashReportPattern(name).replace("%p", Long.toString(pid)));
  }

  boolean alive() {
    return !ended.isDone();
  }

  /** Its VMs, and the launches on their way to it ({@link #reserve}). */
  int load() {
    return vms.size() + reserved.get();
  }

  /**
   * Counts a launch that was placed here but has not reached {@link #launch} yet, so that the
   * process is not given more VMs than it may hold meanwhile; {@link #unreserve} when it has.
   */
  void reserve() {
    reserved.incrementAndGet();
  }

  void unreserve() {
    reserved.decrementAndGet();
  }

  /** Boots ({@code dir} null) or restores {@code launch} in this process. */
  RemoteVm launch(VmLaunch launch, Path dir, Duration timeout) throws VmStartException {
    int key = keys.incrementAndGet();
    RemoteVm vm = new RemoteVm(this, key, launch);
    vms.put(key, vm);
    vm.exit().whenComplete((e, x) -> vms.remove(key));
    String failed =
        dir == null ? HearthApi.Reasons.VM_CREATE_FAILED : HearthApi.Reasons.RESTORE_FAILED;
    try {
      call(
              dir == null ? Wire.Op.START : Wire.Op.RESTORE,
              key,
              b -> {
                if (dir != null) {
                  b.str(dir.toString());
                }
                LaunchCodec.write(b, launch);
              },
              timeout,
              failed)
          .orThrow();
      return vm;
    } catch (VmStartException e) {
      vms.remove(key); // refused, or no answer: it does not count against this process
      throw e;
    }
  }

  /**
   * Sends a request about VM {@code key} ({@code fields} writes what follows the request id and the
   * key) and waits for its reply.
   *
   * @throws VmStartException with {@code failReason} when the child ended, did not answer within
   *     {@code timeout}, or the wait was interrupted
   */
  Reply call(Wire.Op op, int key, Consumer<Wire.Out> fields, Duration timeout, String failReason)
      throws VmStartException {
    long req = requests.incrementAndGet();
    Wire.Out body = new Wire.Out().i64(req).i32(key);
    fields.accept(body);
    return call(req, op, body, timeout, failReason);
  }

  private Reply call(long req, Wire.Op op, Wire.Out body, Duration timeout, String failReason)
      throws VmStartException {
    CompletableFuture<Reply> reply = new CompletableFuture<>();
    pending.put(req, reply);
    try {
      send(op, body);
      return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmStartException(failReason, "interrupted waiting for VMM process " + name, e);
    } catch (TimeoutException e) {
      throw new VmStartException(
          failReason,
          "VMM process " + name + " did not answer " + op + " within " + timeout.toSeconds() + " s",
          e);
    } catch (ExecutionException | IOException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new VmStartException(failReason, String.valueOf(cause.getMessage()), cause);
    } finally {
      pending.remove(req);
    }
  }

  /** Sends a frame that gets no reply; dropped once the child has ended. */
  void tell(Wire.Op op, Wire.Out body) {
    try {
      send(op, body);
    } catch (IOException e) {
      LOG.debug("{} not sent to VMM process {}: {}", op, name, e.toString());
    }
  }

  private void send(Wire.Op op, Wire.Out body) throws IOException {
    if (ended.isDone()) {
      throw new VmmHostException("VMM process " + name + " has ended: " + ended.getNow(""));
    }
    synchronized (toChild) {
      Wire.write(toChild, op, body);
    }
  }

  /**
   * Kills the child unless it exits within {@code grace}: a JVM that crashed prints the start of
   * its report where the frames go, then writes the report file, and a kill at once would cut it.
   */
  private void killAfter(Duration grace) {
    try {
      if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process.destroyForcibly();
  }

  /** The reader thread: frames from the child until it ends or breaks the protocol. */
  private void read(InputStream in) {
    String why;
    try {
      Wire.Frame f;
      while ((f = Wire.read(in)) != null) {
        deliver(f);
      }
      why = "it closed its output";
    } catch (IOException | RuntimeException e) {
      why = "its frames could not be read (" + e.getMessage() + ")";
      killAfter(CRASH_REPORT_GRACE);
    }
    finish(why);
  }

  private void deliver(Wire.Frame f) throws IOException {
    Wire.In b = f.body();
    switch (f.op()) {
      case HELLO -> {
        int version = b.i32();
        long pid = b.i64();
        if (version != Wire.VERSION) {
          throw new VmmHostException(
              "it speaks protocol " + version + ", the agent " + Wire.VERSION);
        }
        hello.complete(pid);
      }
      case REPLY -> {
        long req = b.i64();
        Reply r =
            new Reply(
                b.bool(), b.i32(), LaunchCodec.bounded(b.str()), LaunchCodec.bounded(b.str()));
        CompletableFuture<Reply> waiting = pending.get(req);
        if (waiting != null) {
          waiting.complete(r);
        }
      }
      case BOOTED, CONSOLE, METER, EXIT -> {
        RemoteVm vm = vms.get(b.i32());
        if (vm != null) {
          vm.deliver(f.op(), b);
        }
      }
      default -> throw new VmmHostException("it sent a " + f.op() + " frame");
    }
  }

  private void finish(String why) {
    String exit;
    try {
      exit =
          process.waitFor(5, TimeUnit.SECONDS)
              ? "exit code " + process.exitValue()
              : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exit = "unknown exit";
    }
    Path report = crashReport(name, process.pid());
    String message =
        "VMM process "
            + name
            + " (pid "
            + process.pid()
            + ") ended: "
            + why
            + ", "
            + exit
            + (Files.exists(report) ? "; its JVM crashed, its report is " + report : "");
    if (!ended.complete(message)) {
      return;
    }
    hello.completeExceptionally(new VmmHostException(message));
    pending.values().forEach(p -> p.completeExceptionally(new VmmHostException(message)));
    if (!vms.isEmpty()) {
      LOG.warn("{}; its {} VMs stopped with it", message, vms.size());
    }
    for (RemoteVm vm : List.copyOf(vms.values())) {
      vm.ended(new GuestExit(HearthApi.Reasons.VMM_ERROR, message, false));
    }
  }

  /** Kills the child: it broke the protocol, or hung on a VM. Its VMs exit with VmmError. */
  void kill(String why) {
    LOG.warn("killing VMM process {} (pid {}): {}", name, process.pid(), why);
    process.destroyForcibly();
  }

  /**
   * Closes the child's input, which makes it stop whatever VMs it still runs and exit; kills it if
   * it has not exited within {@code grace}.
   */
  void close(Duration grace) {
    try {
      synchronized (toChild) {
        toChild.close();
      }
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        kill("it did not exit within " + grace.toSeconds() + " s of its input closing");
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }
}
