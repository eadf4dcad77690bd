package dev.hearth.agent.bench;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.reconcile.AgentContext;
import dev.hearth.agent.reconcile.NodeAgent;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.RunStateTransition;
import dev.hearth.vmm.testing.BuiltGuests;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (surefire runs *Test; run it with {@code
 * node-agent/src/bench/run-suspend-bench.sh [rounds]}): issue 16's figures through the agent, with
 * the embedded VMM and the tiny ticker guest, against the real API server. Per round, each measured
 * from the API write to what the agent reports or the guest prints: a cold boot (create to phase
 * Running; create to the guest's first console line), a suspend (runState Suspended to
 * status.runState Suspended, and the agent's own durationMillis), a resume (runState Running to
 * status.runState Running; to the guest's first new console line; and the agent's restore
 * durationMillis), as medians and ratios to the cold boot; and this process's resident memory with
 * the guest running before the suspend, while suspended, and after the restore.
 */
class AgentSuspendBench {
  private static final int GUEST_MIB = 64;

  @Test
  void suspendAndResumeAgainstColdBoot() throws Exception {
    int rounds = Integer.getInteger("hearth.bench.rounds", 10);
    KubernetesClient client = SharedApiServer.client();
    String ns = SharedApiServer.createNamespace("suspendbench");
    String node = "node-" + ns;
    Path state = Files.createTempDirectory("hearth-suspend-bench");
    ConsoleRegistry consoles = new ConsoleRegistry(1 << 20);
    KubernetesClient agentClient = SharedApiServer.agentClient();
    AgentContext ctx =
        TestAgentContext.of(node, agentClient, state)
            .runtime(new VmmRuntime())
            .guestCidr("10.91.0.0/24")
            .imagesRoot(Path.of("/"))
            .consoles(consoles)
            .stopGrace(Duration.ofSeconds(2))
            .build();
    List<Double> cold = new ArrayList<>();
    List<Double> coldOutput = new ArrayList<>();
    List<Double> suspend = new ArrayList<>();
    List<Double> suspendAgent = new ArrayList<>();
    List<Double> resume = new ArrayList<>();
    List<Double> resumeOutput = new ArrayList<>();
    List<Double> restoreAgent = new ArrayList<>();
    long rssRunning = 0;
    long rssSuspended = 0;
    long rssRestored = 0;
    try (NodeAgent agent = new NodeAgent(ctx)) {
      agent.start(Duration.ofSeconds(30));
      Path ticker = BuiltGuests.elf("ticker").toAbsolutePath();
      for (int r = 0; r < rounds; r++) {
        String name = "t" + r;
        MicroVMSpec spec = new MicroVMSpec();
        spec.setKernel(
            new KernelSpec(ImageSource.ofPath(Path.of("/").relativize(ticker).toString())));
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
        long created = System.nanoTime();
        client.resource(vm).create();
        double[] firstOut = {-1};
        until(
            () -> {
              if (firstOut[0] < 0 && console(consoles, ns, name).contains("\n")) {
                firstOut[0] = ms(created);
              }
              MicroVM v = get(client, ns, name);
              return firstOut[0] >= 0
                  && v.getStatus() != null
                  && v.getStatus().getPhase() == MicroVMPhase.Running;
            });
        cold.add(ms(created));
        coldOutput.add(firstOut[0]);
        Thread.sleep(200);
        rssRunning = Math.max(rssRunning, rssKiB());

        long t0 = System.nanoTime();
        setRunState(client, ns, name, RunState.Suspended);
        until(() -> runState(client, ns, name) == RunState.Suspended);
        suspend.add(ms(t0));
        suspendAgent.add((double) transition(client, ns, name).getDurationMillis());
        Thread.sleep(200);
        rssSuspended = Math.max(rssSuspended, rssKiB());

        int before = console(consoles, ns, name).length();
        t0 = System.nanoTime();
        setRunState(client, ns, name, RunState.Running);
        double[] out = {-1};
        long start = t0;
        until(
            () -> {
              if (out[0] < 0 && console(consoles, ns, name).length() > before) {
                out[0] = ms(start);
              }
              return out[0] >= 0 && runState(client, ns, name) == RunState.Running;
            });
        resume.add(ms(t0));
        resumeOutput.add(out[0]);
        restoreAgent.add((double) transition(client, ns, name).getDurationMillis());
        Thread.sleep(200);
        rssRestored = Math.max(rssRestored, rssKiB());
        client.resources(MicroVM.class).inNamespace(ns).withName(name).delete();
        until(() -> get(client, ns, name) == null);
      }
    } finally {
      agentClient.close();
      SharedApiServer.deleteNamespace(ns);
    }
    double c = median(cold);
    double co = median(coldOutput);
    System.out.printf(
        "AgentSuspendBench: %d rounds, ticker guest of %d MiB, embedded VMM through the agent%n",
        rounds, GUEST_MIB);
    System.out.printf("  cold boot: create -> Running %.1f ms, -> first output %.1f ms%n", c, co);
    System.out.printf(
        "  suspend: request -> Suspended %.1f ms (agent %.1f ms), ratio to cold boot %.2f%n",
        median(suspend), median(suspendAgent), median(suspend) / c);
    System.out.printf(
        "  resume: request -> Running %.1f ms (agent restore %.1f ms), ratio to cold boot %.2f;"
            + " -> first output %.1f ms, ratio %.2f%n",
        median(resume),
        median(restoreAgent),
        median(resume) / c,
        median(resumeOutput),
        median(resumeOutput) / co);
    System.out.printf(
        "  process RSS: running %d KiB, suspended %d KiB, restored %d KiB (restored/running"
            + " %.2f)%n",
        rssRunning, rssSuspended, rssRestored, (double) rssRestored / rssRunning);
  }

  private static MicroVM get(KubernetesClient client, String ns, String name) {
    return client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
  }

  private static RunState runState(KubernetesClient client, String ns, String name) {
    MicroVM v = get(client, ns, name);
    return v == null || v.getStatus() == null ? null : v.getStatus().getRunState();
  }

  private static RunStateTransition transition(KubernetesClient client, String ns, String name) {
    return get(client, ns, name).getStatus().getRunStateTransition();
  }

  private static void setRunState(KubernetesClient client, String ns, String name, RunState s) {
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName(name)
        .edit(
            v -> {
              v.getSpec().setRunState(s);
              return v;
            });
  }

  private static String console(ConsoleRegistry consoles, String ns, String name) {
    return consoles
        .find(ns, name)
        .map(b -> new String(b.tail().data(), StandardCharsets.UTF_8))
        .orElse("");
  }

  private static void until(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out");
      }
      Thread.sleep(2);
    }
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static long rssKiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
