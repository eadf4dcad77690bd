package dev.hearth.agent.bench;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.reconcile.AgentContext;
import dev.hearth.agent.reconcile.NodeAgent;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.FakeGuestNetwork;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.vmm.testing.BuiltGuests;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (surefire runs *Test; run this with {@code
 * node-agent/src/bench/run-agent-bench.sh [VMs]}, which uses the nested-KVM harness on a host
 * without /dev/kvm): binds N MicroVMs to one agent and reports the time from bind (create with the
 * node label) to Running, and the agent's memory per running VM beyond guest RAM (heap after GC,
 * and RSS). With a usable /dev/kvm it boots the vmm test build's idle guest through the embedded
 * VMM; without one it uses a fake runtime, which measures only the agent's own share (informer
 * cache, supervisor, console buffer, status patches), and says so.
 */
class AgentScaleBench {
  private static final int GUEST_MIB = 16;

  @Test
  void bindToRunningAndMemoryPerVm() throws Exception {
    int n = Integer.getInteger("hearth.bench.vms", 200);
    Path idle = BuiltGuests.elf("idle").toAbsolutePath();
    boolean kvm = Files.isWritable(Path.of("/dev/kvm")) && Files.isReadable(idle);
    VmRuntime runtime = kvm ? new VmmRuntime() : new FakeVmRuntime();
    Path state = Files.createTempDirectory("hearth-bench");
    Path kernel = kvm ? idle : Files.writeString(state.resolve("vmlinux"), "k");
    KubernetesClient client = SharedApiServer.client();
    FdBudget fds = FdBudget.ofThisProcess();
    String node = "bench-node";
    String ns = SharedApiServer.createNamespace("bench");
    NodeAgent agent =
        new NodeAgent(
            new AgentContext(
                node,
                client,
                runtime,
                new FakeGuestNetwork(new Ipam(Cidr.parse("10.100.0.0/16"), state.resolve("ipam"))),
                new ImageCache(
                    state.resolve("images"),
                    // The guest may live outside state: the images root is "/".
                    new NodeImages(Path.of("/")),
                    1 << 20,
                    ImageCache.Timeouts.DEFAULT,
                    new SimpleMeterRegistry()),
                new ConsoleRegistry(4096),
                new AgentMetrics(),
                state,
                RestartBackoff.Config.DEFAULT,
                Duration.ofSeconds(2),
                InstantSource.system(),
                fds));
    agent.start(Duration.ofMinutes(1));

    // Warm-up: JIT, thread pools, KVM module state and the first informer events are paid for
    // before the baseline, so the figures are per VM and not start-up.
    int warm = Math.min(10, n);
    bindAndWait(client, ns, node, "warm-", warm, kernel);
    for (int i = 0; i < warm; i++) {
      client.resources(MicroVM.class).inNamespace(ns).withName("warm-" + i).delete();
    }
    Awaitility.await()
        .atMost(Duration.ofMinutes(5))
        .until(() -> client.resources(MicroVM.class).inNamespace(ns).list().getItems().isEmpty());

    Memory before = Memory.now();
    long start = System.nanoTime();
    List<Long> sorted = bindAndWait(client, ns, node, "vm-", n, kernel);
    long totalMs = (System.nanoTime() - start) / 1_000_000;
    Memory after = Memory.now();
    long heapPerVm = (after.liveHeap - before.liveHeap) / n;
    long guestPerVm = (after.guestResident - before.guestResident) / n;
    long nativePerVm = (after.nativeBytes() - before.nativeBytes()) / n - guestPerVm;
    long threadsPerVm = (after.threads - before.threads) / n;
    System.out.printf(
        "%nAgentScaleBench: %d MicroVMs on one agent, runtime %s%s (after a %d-VM warm-up)%n"
            + "  all Running: %s after %d ms (%.1f VMs/s)%n"
            + "  bind -> Running: p50 %d ms, p95 %d ms, max %d ms%n"
            + "  memory per running VM beyond guest RAM: %d KiB = live heap %d KiB + native %d KiB%n"
            + "    (native = RSS minus committed heap, JIT code and metaspace, minus guest RAM;"
            + " the informer's copies of the VMs count in the heap)%n"
            + "  guest RAM resident per VM (pages the guest or loader touched): %d KiB%n"
            + "  threads per VM: %d; RSS %d -> %d MiB, committed heap %d -> %d MiB,"
            + " JIT code and metaspace %d -> %d MiB%n%n",
        n,
        kvm ? "embedded VMM on /dev/kvm" : "FAKE (no usable /dev/kvm: agent overhead only, no VMM)",
        kvm ? ", guest idle.elf with " + GUEST_MIB + " MiB" : "",
        warm,
        sorted.size() == n,
        totalMs,
        n * 1000.0 / totalMs,
        pct(sorted, 50),
        pct(sorted, 95),
        sorted.isEmpty() ? -1 : sorted.getLast(),
        (heapPerVm + nativePerVm) / 1024,
        heapPerVm / 1024,
        nativePerVm / 1024,
        guestPerVm / 1024,
        threadsPerVm,
        before.rss >> 20,
        after.rss >> 20,
        before.committedHeap >> 20,
        after.committedHeap >> 20,
        before.jvmNonHeap >> 20,
        after.jvmNonHeap >> 20);
    agent.shutdown("benchmark done", Duration.ofMinutes(1));
    agent.close();
  }

  /** Creates {@code count} MicroVMs bound to {@code node}; returns sorted bind-to-Running times. */
  private static List<Long> bindAndWait(
      KubernetesClient client, String ns, String node, String prefix, int count, Path kernel)
      throws InterruptedException {
    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    List<Long> bindToRunningMs = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch running = new CountDownLatch(count);
    Watch watch =
        client
            .resources(MicroVM.class)
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, MicroVM vm) {
                    Long t0 = createdAt.get(vm.getMetadata().getName());
                    if (t0 != null
                        && vm.getStatus() != null
                        && vm.getStatus().getPhase() == MicroVMPhase.Running
                        && createdAt.remove(vm.getMetadata().getName()) != null) {
                      bindToRunningMs.add((System.nanoTime() - t0) / 1_000_000);
                      running.countDown();
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
    running.await(20, TimeUnit.MINUTES);
    watch.close();
    List<Long> sorted = new ArrayList<>(bindToRunningMs);
    Collections.sort(sorted);
    return sorted;
  }

  /**
   * The process's memory, in bytes: live heap after GC, committed heap, the JVM's own non-heap (JIT
   * code, metaspace: shared by all VMs, not per VM), RSS, and the resident part of the guests' RAM
   * (mappings of exactly {@link #GUEST_MIB}, which the guests' RAM is), and the thread count.
   */
  private record Memory(
      long liveHeap,
      long committedHeap,
      long jvmNonHeap,
      long rss,
      long guestResident,
      int threads) {
    static Memory now() throws InterruptedException, IOException {
      long live = heapAfterGc();
      return new Memory(
          live,
          ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted(),
          ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage().getCommitted(),
          rssKb() * 1024,
          guestResidentBytes(),
          ManagementFactory.getThreadMXBean().getThreadCount());
    }

    long nativeBytes() {
      return rss - committedHeap - jvmNonHeap;
    }
  }

  /** Sums the Rss of every mapping whose size is exactly a guest's RAM. */
  private static long guestResidentBytes() throws IOException {
    long total = 0;
    boolean guestMapping = false;
    for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
      if (line.startsWith("Size:")) {
        guestMapping = kb(line) == GUEST_MIB * 1024L;
      } else if (guestMapping && line.startsWith("Rss:")) {
        total += kb(line) * 1024;
      }
    }
    return total;
  }

  private static long kb(String smapsLine) {
    return Long.parseLong(smapsLine.replaceAll("[^0-9]", ""));
  }

  private static long pct(List<Long> sorted, int p) {
    return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
  }

  private static long heapAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  private static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
