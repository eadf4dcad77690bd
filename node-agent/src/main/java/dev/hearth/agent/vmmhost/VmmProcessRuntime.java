package dev.hearth.agent.vmmhost;

import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.common.LogLevel;
import dev.hearth.vmm.config.SeccompMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VMs in VMM processes of their own, at most {@code vmsPerProcess} in each: a new VM goes to the
 * first process with room, and a new process starts when none has any. A process left without VMs
 * (other than the first) is closed after {@link #IDLE_CLOSE}. What each VM can do is what the
 * embedded {@link VmmRuntime} can, which each process runs.
 */
public final class VmmProcessRuntime implements VmRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(VmmProcessRuntime.class);
  static final Duration IDLE_CLOSE = Duration.ofSeconds(30);
  // After a VMM process failed to start, VMs fail at once with its reason for this long.
  static final Duration START_BACKOFF = Duration.ofSeconds(10);
  // Booting is milliseconds; restoring maps a snapshot's memory lazily. A bound for a hung child.
  private static final Duration LAUNCH_TIMEOUT = Duration.ofMinutes(2);

  private final int vmsPerProcess;
  private final Function<String, List<String>> command;
  private final Capabilities capabilities;
  // Changed under this runtime's lock; read without it by the metrics and pids(), so that a scrape
  // never waits for a JVM that place() is starting under the lock.
  private final List<VmmProcess> processes = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService idle =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("hearth-vmm-process-idle").factory());
  private int started; // guarded by this
  // The next process, starting early: written under this runtime's lock, read without it too.
  private volatile CompletableFuture<VmmProcess> spare;
  private String lastFailure; // guarded by this: why the last process did not start
  private long lastFailureAt; // guarded by this
  private volatile boolean closed;

  /**
   * A runtime whose VMM processes run this JVM's {@code java} on its class path, with vsock sockets
   * under {@code vsockDir} and {@code seccomp} for their VMs' threads.
   */
  public VmmProcessRuntime(int vmsPerProcess, Path vsockDir, SeccompMode seccomp) {
    this(vmsPerProcess, vsockDir, seccomp, List.of());
  }

  /**
   * As {@link #VmmProcessRuntime(int, Path, SeccompMode)}, with {@code javaOptions} after the
   * processes' own (a later option wins: {@code -Xmx1g} replaces the heap this sizes).
   */
  public VmmProcessRuntime(
      int vmsPerProcess, Path vsockDir, SeccompMode seccomp, List<String> javaOptions) {
    this(
        vmsPerProcess,
        name -> javaCommand(name, vmsPerProcess, vsockDir, seccomp, List.copyOf(javaOptions)));
  }

  /** A runtime whose processes run {@code command} (given the process's name). */
  VmmProcessRuntime(int vmsPerProcess, Function<String, List<String>> command) {
    if (vmsPerProcess < 1) {
      throw new IllegalArgumentException("vmsPerProcess must be at least 1: " + vmsPerProcess);
    }
    this.vmsPerProcess = vmsPerProcess;
    this.command = Objects.requireNonNull(command, "command");
    this.capabilities = new VmmRuntime().capabilities();
  }

  /**
   * The command of a VMM process: this JVM's {@code java} and class path, a heap sized for its VMs
   * (their devices' buffers and queues; guest memory is outside the heap), the serial collector
   * (one thread, no concurrent ones), and the log level this JVM was given.
   */
  static List<String> javaCommand(
      String name,
      int vmsPerProcess,
      Path vsockDir,
      SeccompMode seccomp,
      List<String> javaOptions) {
    long heapMiB = 64 + (vmsPerProcess * 256L >> 10);
    List<String> c = new ArrayList<>();
    c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    c.add("--enable-native-access=ALL-UNNAMED");
    // The JVM's own messages go to stdout by default (unified logging's warnings): the frames'
    // stream. Send them to stderr, where the agent's log is.
    c.add("-Xlog:disable");
    c.add("-Xlog:all=warning:stderr");
    c.add("-XX:+UseSerialGC");
    c.add("-Xms4m"); // the heap grows as its VMs need; a large initial one is touched memory
    c.add("-XX:+ExitOnOutOfMemoryError");
    c.add("-XX:ErrorFile=" + VmmProcess.crashReportPattern(name));
    c.add("-XX:MaxHeapFreeRatio=30"); // give back heap a burst of starts grew
    c.add("-XX:MinHeapFreeRatio=10");
    c.add("-Xmx" + heapMiB + "m");
    String level = System.getProperty(LogLevel.SLF4J_SIMPLE_DEFAULT_LEVEL);
    if (level != null) {
      c.add("-D" + LogLevel.SLF4J_SIMPLE_DEFAULT_LEVEL + "=" + level);
    }
    c.addAll(javaOptions);
    c.add("-cp");
    c.add(System.getProperty("java.class.path"));
    c.add(VmmHostMain.class.getName());
    c.add(name);
    c.add(vsockDir.toString());
    c.add(seccomp.name());
    return c;
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public RunningVm start(VmLaunch launch) throws VmStartException {
    return launch(launch, null);
  }

  @Override
  public RunningVm restore(Path dir, VmLaunch launch) throws VmStartException {
    return launch(launch, dir);
  }

  private RunningVm launch(VmLaunch launch, Path dir) throws VmStartException {
    VmmProcess p = place();
    try {
      RunningVm vm = p.launch(launch, dir, LAUNCH_TIMEOUT);
      vm.exit().whenComplete((e, x) -> idleCheck(p));
      return vm;
    } catch (VmStartException e) {
      idleCheck(p); // it may have been started for this VM alone
      throw e;
    } finally {
      p.unreserve();
    }
  }

  /** The first live process with room (counting launches on their way), started if none. */
  private synchronized VmmProcess place() throws VmStartException {
    if (closed) {
      throw new VmStartException(
          HearthApi.Reasons.VM_CREATE_FAILED, "the agent's VMM processes are closing", null);
    }
    processes.removeIf(p -> !p.alive());
    for (VmmProcess p : processes) {
      if (p.load() < vmsPerProcess) {
        p.reserve();
        spareIfNearlyFull();
        return p;
      }
    }
    VmmProcess p = takeSpare();
    if (p == null) {
      long now = System.nanoTime();
      if (lastFailure != null && now - lastFailureAt < START_BACKOFF.toNanos()) {
        // Each VM waiting to start would otherwise start (and lose) a JVM of its own.
        throw new VmStartException(
            HearthApi.Reasons.VM_CREATE_FAILED,
            lastFailure + " (the next try in at most " + START_BACKOFF.toSeconds() + " s)",
            null);
      }
      try {
        p = startProcess();
        lastFailure = null;
      } catch (VmmHostException e) {
        lastFailure = e.getMessage();
        lastFailureAt = now;
        throw new VmStartException(HearthApi.Reasons.VM_CREATE_FAILED, e.getMessage(), e);
      }
    }
    processes.add(p);
    p.reserve();
    return p;
  }

  /** Starts the next process; callers hold this runtime's lock (the name is the next number). */
  private VmmProcess startProcess() throws VmmHostException {
    return startProcess(nextName());
  }

  private synchronized String nextName() {
    return "vmm-" + (++started);
  }

  private VmmProcess startProcess(String name) throws VmmHostException {
    return VmmProcess.start(name, command.apply(name));
  }

  /**
   * Starts the next process ahead of need once less than a tenth of a process's room is left, so
   * that the VM that fills the last one does not wait for a JVM to start, holding up every start
   * behind it.
   */
  private void spareIfNearlyFull() {
    if (spare != null || closed) {
      return;
    }
    long room = 0;
    for (VmmProcess p : processes) {
      room += vmsPerProcess - p.load();
    }
    if (room * 10 < vmsPerProcess) {
      spare = new CompletableFuture<>();
      CompletableFuture<VmmProcess> starting = spare;
      String name = nextName(); // here, under the lock: the thread below must not take it
      Thread.ofVirtual()
          .name("hearth-vmm-spare")
          .start(
              () -> {
                try {
                  starting.complete(startProcess(name));
                } catch (VmmHostException | RuntimeException e) {
                  starting.completeExceptionally(e);
                }
              });
    }
  }

  /** The spare process once it has started, or null (none, or its start failed: logged). */
  private VmmProcess takeSpare() {
    CompletableFuture<VmmProcess> s = spare;
    spare = null;
    if (s == null) {
      return null;
    }
    try {
      VmmProcess p = s.join();
      return p.alive() ? p : null;
    } catch (java.util.concurrent.CompletionException e) {
      LOG.warn("the spare VMM process did not start: {}", e.getCause().getMessage());
      return null;
    }
  }

  /** Closes {@code p} after {@link #IDLE_CLOSE} if it is still empty then and not the first. */
  private void idleCheck(VmmProcess p) {
    if (closed) {
      return;
    }
    try {
      idle.schedule(() -> closeIfIdle(p), IDLE_CLOSE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // close() is ending every process anyway
    }
  }

  private void closeIfIdle(VmmProcess p) {
    synchronized (this) {
      if (processes.indexOf(p) <= 0 || p.load() > 0) {
        return;
      }
      processes.remove(p);
    }
    p.close();
  }

  /**
   * Starts the first VMM process now, so that the first VM does not wait for a JVM to start; a
   * failure here is only logged, and the first VM's start tries again (and reports it).
   */
  public void prestart() {
    Thread.ofVirtual()
        .name("hearth-vmm-prestart")
        .start(
            () -> {
              synchronized (this) {
                if (!processes.isEmpty() || closed) {
                  return;
                }
                try {
                  processes.add(startProcess());
                } catch (VmmHostException e) {
                  LOG.warn("{}; the first VM's start will try again", e.getMessage());
                }
              }
            });
  }

  /** The live VMM processes' pids, first started first, the spare (once started) last. */
  public List<Long> pids() {
    return live().stream().map(VmmProcess::pid).toList();
  }

  /** Each live VMM process's VMs, as {@link #pids()} orders them: a started spare holds none. */
  @Override
  public List<Integer> vmsPerVmmProcess() {
    return live().stream().map(VmmProcess::load).toList();
  }

  /** The live processes and the spare if it has started; read without this runtime's lock. */
  private List<VmmProcess> live() {
    List<VmmProcess> all = new ArrayList<>(processes);
    CompletableFuture<VmmProcess> s = spare;
    if (s != null && s.isDone() && !s.isCompletedExceptionally()) {
      all.add(s.join());
    }
    return all.stream().filter(VmmProcess::alive).toList();
  }

  /**
   * Closes every VMM process: each stops the VMs it still runs and exits. The agent stops or
   * suspends its VMs first.
   */
  @Override
  public void close() {
    List<VmmProcess> all = new ArrayList<>();
    CompletableFuture<VmmProcess> starting;
    synchronized (this) {
      closed = true;
      all.addAll(processes);
      processes.clear();
      starting = spare;
      spare = null;
    }
    idle.shutdownNow();
    if (starting != null) {
      // Outside the lock: a spare still starting may take up to its greeting's timeout.
      try {
        all.add(starting.join());
      } catch (java.util.concurrent.CompletionException e) {
        // It did not start: nothing to close.
      }
    }
    all.parallelStream().forEach(VmmProcess::close);
  }
}
