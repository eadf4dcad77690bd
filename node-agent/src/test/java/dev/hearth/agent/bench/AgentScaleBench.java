package dev.hearth.agent.bench;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
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
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
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
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (surefire runs *Test; run this with {@code ./mvnw -pl node-agent test
 * -Dtest=AgentScaleBench -Dhearth.bench.vms=200}): binds N MicroVMs to one agent and reports the
 * time from bind (create with the node label) to Running, and the agent's memory per running VM
 * beyond guest RAM (heap after GC, and RSS). With a usable /dev/kvm it boots the vmm test build's
 * idle guest through the embedded VMM; without one it uses a fake runtime, which measures only the
 * agent's own share (informer cache, supervisor, console buffer, status patches), and says so.
 */
class AgentScaleBench {
  @Test
  void bindToRunningAndMemoryPerVm() throws Exception {
    int n = Integer.getInteger("hearth.bench.vms", 200);
    Path idle =
        Path.of(System.getProperty("hearth.guests", "../vmm/target/guests"), "idle.elf")
            .toAbsolutePath();
    boolean kvm = Files.isWritable(Path.of("/dev/kvm")) && Files.isReadable(idle);
    VmRuntime runtime = kvm ? new VmmRuntime() : new FakeVmRuntime();
    Path state = Files.createTempDirectory("hearth-bench");
    Path kernel = kvm ? idle : Files.writeString(state.resolve("vmlinux"), "k");
    KubernetesClient client = SharedApiServer.client();
    String node = "bench-node";
    String ns = "bench";
    NodeAgent agent =
        new NodeAgent(
            new AgentContext(
                node,
                client,
                runtime,
                new FakeGuestNetwork(new Ipam(Cidr.parse("10.100.0.0/16"), state.resolve("ipam"))),
                new ImageCache(
                    state.resolve("images"),
                    1 << 20,
                    ImageCache.Timeouts.DEFAULT,
                    new SimpleMeterRegistry()),
                new ConsoleRegistry(4096),
                new AgentMetrics(),
                state,
                RestartBackoff.Config.DEFAULT,
                Duration.ofSeconds(2),
                InstantSource.system()));
    agent.start(Duration.ofMinutes(1));

    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    List<Long> bindToRunningMs = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch running = new CountDownLatch(n);
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
    long heapBefore = heapAfterGc();
    long rssBefore = rssKb();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      String name = "vm-" + i;
      MicroVMSpec spec = new MicroVMSpec();
      spec.setKernel(new KernelSpec(ImageSource.ofPath(kernel.toString())));
      spec.setMemoryMiB(16);
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
    boolean all = running.await(10, TimeUnit.MINUTES);
    long totalMs = (System.nanoTime() - start) / 1_000_000;
    long heapPerVm = (heapAfterGc() - heapBefore) / n;
    long rssPerVmKb = (rssKb() - rssBefore) / n;
    watch.close();
    List<Long> sorted = new ArrayList<>(bindToRunningMs);
    Collections.sort(sorted);
    System.out.printf(
        "%nAgentScaleBench: %d MicroVMs, runtime %s%s%n"
            + "  all Running: %s after %d ms (%.1f VMs/s)%n"
            + "  bind -> Running: p50 %d ms, p95 %d ms, max %d ms%n"
            + "  agent heap per running VM (after GC): %d KiB%n"
            + "  process RSS per running VM: %d KiB (includes guest pages the guests touched)%n%n",
        n,
        kvm ? "embedded VMM on /dev/kvm" : "FAKE (no usable /dev/kvm: agent overhead only, no VMM)",
        kvm ? ", guest idle.elf with 16 MiB" : "",
        all,
        totalMs,
        n * 1000.0 / totalMs,
        pct(sorted, 50),
        pct(sorted, 95),
        sorted.isEmpty() ? -1 : sorted.getLast(),
        heapPerVm / 1024,
        rssPerVmKb);
    agent.shutdown("benchmark done", Duration.ofMinutes(1));
    agent.close();
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
