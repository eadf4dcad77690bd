package dev.hearth.agent.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.NodeResources;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeRegistrationTest {
  private static KubernetesClient client;

  @TempDir Path proc;

  // MicroVMNodes are cluster-scoped: names of this run's own.
  private static final String WORKER_1 = "worker-1-" + Long.toHexString(System.nanoTime());
  private static final String WORKER_2 = "worker-2-" + Long.toHexString(System.nanoTime());
  private static KubernetesClient agent;

  @BeforeAll
  static void apiServer() {
    client = SharedApiServer.client();
    agent = SharedApiServer.agentClient();
  }

  @AfterAll
  static void cleanUp() {
    agent.close();
    client.resources(MicroVMNode.class).withName(WORKER_1).delete();
  }

  private HostProbe probe(String flags, Optional<String> kvmProblem) throws Exception {
    Files.writeString(
        proc.resolve("cpuinfo"),
        "processor\t: 0\nflags\t\t: fpu "
            + flags
            + " sse\n\nprocessor\t: 1\nflags\t\t: fpu "
            + flags
            + "\n");
    Files.writeString(proc.resolve("meminfo"), "MemTotal:        8155420 kB\nMemFree: 1 kB\n");
    return new HostProbe(proc, () -> kvmProblem);
  }

  @Test
  void capacityAndKvmFactsComeFromTheHost() throws Exception {
    HostProbe hw = probe("vmx", Optional.empty());
    assertThat(hw.capacity()).isEqualTo(new NodeResources(2, 7964));
    assertThat(hw.kvm().getCanRunLinux()).isTrue();
    assertThat(hw.kvm().getApiVersion()).isEqualTo(12);

    var emulated = probe("", Optional.empty()).kvm();
    assertThat(emulated.getPresent()).isTrue();
    assertThat(emulated.getCanRunLinux()).isFalse();
    assertThat(emulated.getDetail()).contains("no vmx/svm");

    var missing = probe("svm", Optional.of("/dev/kvm does not exist")).kvm();
    assertThat(missing.getPresent()).isFalse();
    assertThat(missing.getApiVersion()).isNull();
    assertThat(missing.getDetail()).isEqualTo("KVM unusable: /dev/kvm does not exist");
  }

  @Test
  void registersTheNodeAndUpdatesOnlyTheAgentsFields() throws Exception {
    HostProbe hw = probe("vmx", Optional.empty());
    NodeRegistration reg = new NodeRegistration(agent, WORKER_1);
    var reserved = new NodeRegistration.Reservations(1, 1024);
    MicroVMNode node = reg.register(hw.capacity(), reserved, hw.kvm(), "0.1.0", "10.200.0.0/16");
    assertThat(node.getStatus().getAllocatable()).isEqualTo(new NodeResources(1, 6940));
    assertThat(node.getStatus().getSubnet()).isEqualTo("10.200.0.0/16");

    // The operator's Ready condition and an admin's cordon survive re-registration.
    client
        .resources(MicroVMNode.class)
        .withName(WORKER_1)
        .edit(
            n -> {
              n.getSpec().setUnschedulable(true);
              return n;
            });
    client
        .resources(MicroVMNode.class)
        .withName(WORKER_1)
        .editStatus(
            n -> {
              n.getStatus()
                  .setConditions(
                      new java.util.ArrayList<>(
                          List.of(
                              Conditions.of(
                                  "Ready", "True", "LeaseCurrent", "", null, Instant.now()))));
              return n;
            });
    MicroVMNode again =
        reg.register(
            hw.capacity(),
            new NodeRegistration.Reservations(0, 0),
            hw.kvm(),
            "0.1.1",
            "10.200.0.0/16");
    assertThat(again.getStatus().getAgentVersion()).isEqualTo("0.1.1");
    assertThat(again.getStatus().getAllocatable()).isEqualTo(new NodeResources(2, 7964));
    assertThat(again.getStatus().condition("Ready")).isPresent();
    assertThat(
            client
                .resources(MicroVMNode.class)
                .withName(WORKER_1)
                .get()
                .getSpec()
                .getUnschedulable())
        .isTrue();
  }

  @Test
  void statusSaysWhatIsReservedThePerVmOverheadTheOvercommitAndHowManyVmsFit() throws Exception {
    HostProbe hw = probe("vmx", Optional.empty());
    MicroVMNode node =
        new NodeRegistration(agent, WORKER_1)
            .register(
                hw.capacity(),
                new NodeRegistration.Reservations(1, 1024, 4, 3),
                2900,
                hw.kvm(),
                "0.1.0",
                "10.200.0.0/16",
                null);
    var s = node.getStatus();
    assertThat(s.getCapacity()).isEqualTo(new NodeResources(2, 7964));
    assertThat(s.getReserved()).isEqualTo(new NodeResources(1, 1024));
    assertThat(s.getAllocatable()).isEqualTo(new NodeResources(4, 6940, 2900));
    assertThat(s.getVmOverheadMiB()).isEqualTo(3);
    assertThat(s.getVcpuOvercommitRatio()).isEqualTo(4);
  }

  @Test
  void allocatableNeverGoesNegative() {
    assertThat(
            NodeRegistration.allocatable(
                new NodeResources(2, 512), new NodeRegistration.Reservations(4, 1024)))
        .isEqualTo(new NodeResources(0, 0));
  }

  @Test
  void theLeaseIsRenewedOnlyWhileTheAgentCanServe() {
    AtomicReference<Instant> now =
        new AtomicReference<>(Instant.parse("2026-01-01T00:00:00.123456Z"));
    AtomicReference<Optional<String>> problem = new AtomicReference<>(Optional.empty());
    LeaseRenewer renewer =
        new LeaseRenewer(
            agent, SharedApiServer.leaseNamespace(), WORKER_2, 40, instants(now), problem::get);
    assertThat(renewer.interval()).hasSeconds(13);
    assertThat(renewer.renew()).isTrue();
    Lease lease =
        client
            .resources(Lease.class)
            .inNamespace(SharedApiServer.leaseNamespace())
            .withName(HearthApi.leaseName(WORKER_2))
            .get();
    assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(WORKER_2);
    assertThat(lease.getSpec().getLeaseDurationSeconds()).isEqualTo(40);
    assertThat(lease.getSpec().getRenewTime().toInstant()).isEqualTo(now.get());

    now.set(now.get().plusSeconds(13));
    assertThat(renewer.renew()).isTrue();
    assertThat(renewTime()).isEqualTo(now.get());

    Instant last = now.get();
    problem.set(Optional.of("the MicroVM watch is down"));
    now.set(now.get().plusSeconds(13));
    assertThat(renewer.renew()).isFalse();
    assertThat(renewTime()).isEqualTo(last);
  }

  private static InstantSource instants(AtomicReference<Instant> now) {
    return now::get;
  }

  private static Instant renewTime() {
    return client
        .resources(Lease.class)
        .inNamespace(SharedApiServer.leaseNamespace())
        .withName(HearthApi.leaseName(WORKER_2))
        .get()
        .getSpec()
        .getRenewTime()
        .toInstant();
  }
}
