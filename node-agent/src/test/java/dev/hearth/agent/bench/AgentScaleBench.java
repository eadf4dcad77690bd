package dev.hearth.agent.bench;

import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.reconcile.NodeAgent;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.agent.vmmhost.VmmProcessRuntime;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.testing.BuiltGuests;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (surefire runs *Test; run this with {@code
 * node-agent/src/bench/run-agent-bench.sh [VMs]}, which uses the nested-KVM harness on a host
 * without /dev/kvm): binds N MicroVMs to one agent and reports how long until all are Running (or
 * what stopped them), the creation rate per CPU-second of this JVM in the first and last tenth, the
 * VMM's start time against the VMs already in the process, bind-to-Running percentiles, the agent's
 * memory, threads, fds and mappings per running VM, and the teardown of all of them. With a usable
 * /dev/kvm it boots the vmm test build's idle guest through the embedded VMM; without one it uses a
 * fake runtime, which measures only the agent's own share, and says so.
 */
class AgentScaleBench {
  private static final int GUEST_MIB = 16;

  @Test
  void bindToRunningAndMemoryPerVm() throws Exception {
    int n = Integer.getInteger("hearth.bench.vms", 200);
    Path idle = BuiltGuests.elf("idle").toAbsolutePath();
    boolean kvm = Files.isWritable(Path.of("/dev/kvm")) && Files.isReadable(idle);
    // -Dhearth.bench.agentPerProcess=S: the VMs in VMM processes of S (as the chart's agent runs
    // them); CPU then counts this JVM and its children.
    int perProcess = Integer.getInteger("hearth.bench.agentPerProcess", 0);
    Path vsock = Files.createTempDirectory("hearth-bench-vsock");
    VmmProcessRuntime processes =
        kvm && perProcess > 0
            ? new VmmProcessRuntime(perProcess, vsock, SeccompMode.ENFORCE)
            : null;
    // CPU of the agent: this JVM, and its VMM processes (not the control plane started under it).
    LongSupplier agentCpu =
        processes == null
            ? ProcessStats::processCpuNanos
            : () -> ProcessTree.cpuNanosOf(processes.pids());
    TimedRuntime runtime =
        new TimedRuntime(
            processes != null ? processes : kvm ? new VmmRuntime(vsock) : new FakeVmRuntime());
    Path state = Files.createTempDirectory("hearth-bench");
    Path kernel = kvm ? idle : Files.writeString(state.resolve("vmlinux"), "k");
    KubernetesClient client = SharedApiServer.client();
    FdBudget fds = FdBudget.ofThisProcess();
    String node = "bench-node";
    String ns = SharedApiServer.createNamespace("bench");
    NodeAgent agent =
        new NodeAgent(
            TestAgentContext.of(node, client, state)
                .runtime(runtime)
                .guestCidr("10.100.0.0/16")
                // The guest may live outside state: the images root is "/".
                .imagesRoot(Path.of("/"))
                .backoff(RestartBackoff.Config.DEFAULT)
                .stopGrace(Duration.ofSeconds(2))
                .fds(fds)
                .build());
    agent.start(Duration.ofMinutes(1));
    try {

      // Warm-up: JIT, thread pools, KVM module state and the first informer events are paid for
      // before the baseline, so the figures are per VM and not start-up.
      int warm = Math.min(10, n);
      bindAndWait(client, ns, node, "warm-", warm, kernel, agentCpu);
      teardown(client, ns);
      runtime.reset();
      runtime.sampleMappingsEvery(n / 10);

      String loadBefore = ProcessStats.loadAverage();
      ProcessStats before = ProcessStats.now(GUEST_MIB);
      ProcessTree treeBefore = ProcessTree.now();
      Map<String, Long> threadsBefore = ProcessStats.threadsByName();
      long start = System.nanoTime();
      long cpuStart = agentCpu.getAsLong();
      Run run = bindAndWait(client, ns, node, "vm-", n, kernel, agentCpu);
      long totalMs = (System.nanoTime() - start) / 1_000_000;
      ProcessStats after = ProcessStats.now(GUEST_MIB);
      ProcessTree treeAfter = ProcessTree.now();
      Map<String, Long> threadsGrown = new TreeMap<>();
      ProcessStats.threadsByName()
          .forEach(
              (name, c) -> {
                long grown = c - threadsBefore.getOrDefault(name, 0L);
                if (grown > 1) {
                  threadsGrown.put(name, grown);
                }
              });
      int up = run.latencies().size();
      long per = Math.max(1, up);
      long heapPerVm = (after.liveHeap() - before.liveHeap()) / per;
      long guestPerVm = (after.guestResident() - before.guestResident()) / per;
      long rssPerVm = (after.rss() - before.rss()) / per - guestPerVm;
      int tenth = Math.max(1, n / 10);
      System.out.printf(
          "%nAgentScaleBench: %d MicroVMs on one agent, runtime %s%s (after a %d-VM warm-up)%n"
              + "  host: %d CPUs, load average before %s, after %s%n"
              + "  fd budget: %s, room for %d idle VMs%n"
              + "  all Running: %s (%d of %d) after %d ms (%.1f VMs/s)%s%n"
              + "  Running per CPU-second of this JVM and its VMM processes: first tenth %.1f, last tenth %.1f%n"
              + "  bind -> Running: p50 %d ms, p99 %d ms, max %d ms%n"
              + "  memory per running VM beyond guest RAM: RSS %d KiB, of which live heap %d KiB%n"
              + "    (RSS grown, less the guests' resident RAM; the heap holds the informer's copies"
              + " of the VMs; RSS also holds heap the GC committed and has not given back)%n"
              + "  guest RAM resident per VM (pages the guest or loader touched): %d KiB%n"
              + "  per VM: %.2f threads, %.2f fds, %.2f mappings; Java platform threads that grew: %s%n"
              + "  RSS %d -> %d MiB, committed heap %d -> %d MiB, JIT code and metaspace %d -> %d MiB%n"
              + "  VMM start (create + start) by VMs already live in the process:%n%s%n",
          n,
          processes != null
              ? "VMM processes of " + perProcess + " on /dev/kvm"
              : kvm
                  ? "embedded VMM on /dev/kvm"
                  : "FAKE (no usable /dev/kvm: agent overhead only, no VMM)",
          kvm ? ", guest idle.elf with " + GUEST_MIB + " MiB" : "",
          warm,
          Runtime.getRuntime().availableProcessors(),
          loadBefore,
          ProcessStats.loadAverage(),
          fds,
          fds.maxVms(),
          up == n,
          up,
          n,
          totalMs,
          up * 1000.0 / totalMs,
          run.failed().isEmpty() ? "" : "; not Running, by reason: " + run.failed(),
          run.ratePerCpuSecond(cpuStart, 0, tenth),
          run.ratePerCpuSecond(cpuStart, up - tenth, up),
          pct(run.latencies(), 50),
          pct(run.latencies(), 99),
          run.latencies().isEmpty() ? -1 : run.latencies().getLast(),
          rssPerVm / 1024,
          heapPerVm / 1024,
          guestPerVm / 1024,
          (after.threads() - before.threads()) / (double) per,
          (after.fds() - before.fds()) / (double) per,
          (after.mappings() - before.mappings()) / (double) per,
          threadsGrown,
          before.rss() >> 20,
          after.rss() >> 20,
          before.committedHeap() >> 20,
          after.committedHeap() >> 20,
          before.jvmNonHeap() >> 20,
          after.jvmNonHeap() >> 20,
          String.join("\n", runtime.byTenth(Math.max(n, runtime.live()))));
      System.out.printf(
          "  this JVM and its %d VMM processes, per running VM: PSS %d KiB (guest pages touched"
              + " included), %.2f threads, %.2f fds, %.2f mappings; largest process %d mappings%n",
          treeAfter.processes() - 1,
          (treeAfter.pss() - treeBefore.pss()) / per >> 10,
          (treeAfter.threads() - treeBefore.threads()) / (double) per,
          (treeAfter.fds() - treeBefore.fds()) / (double) per,
          (treeAfter.mappings() - treeBefore.mappings()) / (double) per,
          treeAfter.maxMappings());

      long cpuBeforeTeardown = agentCpu.getAsLong();
      long t0 = System.nanoTime();
      teardown(client, ns);
      Awaitility.await().atMost(Duration.ofMinutes(5)).until(() -> runtime.live() == 0);
      long teardownMs = (System.nanoTime() - t0) / 1_000_000;
      long teardownCpuMs = (agentCpu.getAsLong() - cpuBeforeTeardown) / 1_000_000;
      ProcessStats gone = ProcessStats.now(GUEST_MIB);
      System.out.printf(
          "  teardown of all %d: %d ms (%.1f VMs/s, %d ms CPU of this JVM and its VMM processes);"
              + " left over: %d threads,"
              + " %d fds, %d mappings, RSS %d MiB%n%n",
          up,
          teardownMs,
          up * 1000.0 / Math.max(1, teardownMs),
          teardownCpuMs,
          gone.threads() - before.threads(),
          gone.fds() - before.fds(),
          gone.mappings() - before.mappings(),
          gone.rss() >> 20);
    } finally {
      // Also after a failure: the VMs would otherwise keep the JVM alive.
      agent.shutdown("benchmark done", Duration.ofMinutes(1));
      agent.close();
      if (processes != null) {
        processes.close();
      }
    }
  }

  /**
   * Deletes every MicroVM of the namespace, one request each (a collection delete of thousands
   * outlasts the client's request timeout), and waits until the agent has let them all go.
   */
  private static void teardown(KubernetesClient client, String ns) throws InterruptedException {
    try (var pool = Executors.newFixedThreadPool(8)) {
      for (MicroVM vm : client.resources(MicroVM.class).inNamespace(ns).list().getItems()) {
        pool.submit(() -> client.resource(vm).delete());
      }
    }
    Awaitility.await()
        .atMost(Duration.ofMinutes(10))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.resources(MicroVM.class).inNamespace(ns).list().getItems().isEmpty());
  }

  /**
   * What one run saw: sorted bind-to-Running times, this JVM's CPU time at each VM's Running in
   * order, and the VMs that ended otherwise, counted by reason.
   */
  private record Run(List<Long> latencies, List<Long> cpuAtRunning, Map<String, Integer> failed) {
    /** VMs that reached Running from the from-th to the to-th, per CPU-second they took. */
    double ratePerCpuSecond(long cpuAtStart, int from, int to) {
      if (to <= from || to > cpuAtRunning.size()) {
        return Double.NaN;
      }
      long begin = from == 0 ? cpuAtStart : cpuAtRunning.get(from - 1);
      return (to - from) / ((cpuAtRunning.get(to - 1) - begin) / 1e9);
    }
  }

  /** Creates {@code count} MicroVMs bound to {@code node}; waits until each runs or fails. */
  private static Run bindAndWait(
      KubernetesClient client,
      String ns,
      String node,
      String prefix,
      int count,
      Path kernel,
      LongSupplier agentCpu)
      throws InterruptedException {
    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    List<Long> bindToRunningMs = Collections.synchronizedList(new ArrayList<>());
    List<Long> cpuAtRunning = Collections.synchronizedList(new ArrayList<>());
    Map<String, Integer> failed = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(count);
    Watch watch =
        client
            .resources(MicroVM.class)
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, MicroVM vm) {
                    String name = vm.getMetadata().getName();
                    MicroVMPhase phase = vm.getStatus() == null ? null : vm.getStatus().getPhase();
                    if (phase == MicroVMPhase.Running) {
                      Long t0 = createdAt.remove(name);
                      if (t0 != null) {
                        synchronized (cpuAtRunning) {
                          cpuAtRunning.add(agentCpu.getAsLong());
                        }
                        bindToRunningMs.add((System.nanoTime() - t0) / 1_000_000);
                        done.countDown();
                      }
                    } else if (phase == MicroVMPhase.Failed && createdAt.remove(name) != null) {
                      String reason =
                          vm.getStatus().getExit() == null
                              ? "?"
                              : vm.getStatus().getExit().getReason();
                      failed.merge(reason, 1, Integer::sum);
                      done.countDown();
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    for (int i = 0; i < count; i++) {
      String name = prefix + i;
      MicroVMSpec spec = new MicroVMSpec();
      spec.setKernel(
          new KernelSpec(
              ImageSource.ofPath(Path.of("/").relativize(kernel.toAbsolutePath()).toString())));
      spec.setMemoryMiB(GUEST_MIB);
      MicroVM vm = new MicroVM();
      vm.setMetadata(
          new ObjectMetaBuilder()
              .withNamespace(ns)
              .withName(name)
              .withLabels(Map.of(HearthApi.NODE_LABEL, node))
              .withFinalizers(HearthApi.AGENT_FINALIZER)
              .build());
      vm.setSpec(spec);
      createdAt.put(name, System.nanoTime());
      client.resource(vm).create();
    }
    done.await(20, TimeUnit.MINUTES);
    watch.close();
    List<Long> sorted = new ArrayList<>(bindToRunningMs);
    Collections.sort(sorted);
    List<Long> cpu = new ArrayList<>(cpuAtRunning);
    Collections.sort(cpu);
    if (!createdAt.isEmpty()) {
      failed.put("neither Running nor Failed after 20 minutes", createdAt.size());
    }
    return new Run(sorted, cpu, new TreeMap<>(failed));
  }

  private static long pct(List<Long> sorted, int p) {
    return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
  }
}
