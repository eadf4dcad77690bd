package dev.hearth.e2e.system;

import static dev.hearth.e2e.system.HearthSystem.phaseOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every manifest of {@code examples/} applied to the whole system, and bad manifests, each of which
 * gets a clear error: refused by the CRD's schema before anything stores it, or stored and then
 * answered with a condition whose reason says what is wrong, and an Event. VMs come from a fake
 * runtime here; {@link RealVmmKvmIT} applies the examples to the real VMM.
 */
@RequiresRoot
class ExamplesAndErrorsIT {
  private static final Path EXAMPLES = ProjectRoot.find().resolve("examples");

  @TempDir static Path dir;
  private static HearthSystem system;
  private static ImageServer images;

  @BeforeAll
  static void start() throws Exception {
    FakeNodes.requireNetworkTools();
    system = HearthSystem.start();
    images = new ImageServer();
    // The set example places its VMs only on nodes labelled for web VMs.
    FakeNodes.start(
        system, "ex-node-a", dir.resolve("a"), "10.95.0.0/24", Map.of("hearth.dev/pool", "web"));
    FakeNodes.start(
        system, "ex-node-b", dir.resolve("b"), "10.96.0.0/24", Map.of("hearth.dev/pool", "web"));
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.close();
    }
    if (images != null) {
      images.close();
    }
  }

  @Test
  void everyExampleIsAcceptedAndRuns() throws Exception {
    String ns = system.namespace("ex-examples");
    Path nodeImages = Files.createDirectories(dir.resolve("node-images"));
    for (String name : Manifests.nodeImageNames(EXAMPLES)) {
      // Stand-ins: the fake runtime reads no image; the agent checks each exists.
      Files.createDirectories(nodeImages.resolve(name).getParent());
      Files.writeString(nodeImages.resolve(name), "stand-in for " + name);
    }
    var examples = Manifests.examples(EXAMPLES, ns, nodeImages, null);
    assertThat(examples).hasSizeGreaterThanOrEqualTo(5);
    for (var example : examples) {
      system.apply(example.object());
    }
    for (var example : examples) {
      if (example.object() instanceof MicroVMSet set) {
        int replicas = set.getSpec().getReplicas();
        await()
            .atMost(HearthSystem.PATIENCE)
            .until(
                () ->
                    system
                            .client()
                            .resources(MicroVM.class)
                            .inNamespace(ns)
                            .withLabels(set.getSpec().getSelector().getMatchLabels())
                            .list()
                            .getItems()
                            .stream()
                            .filter(vm -> phaseOf(vm) == MicroVMPhase.Running)
                            .count()
                        == replicas);
      } else if (example.object() instanceof MicroVM) {
        MicroVM vm = system.awaitPhase(ns, example.name(), MicroVMPhase.Running);
        if (!vm.getSpec().getNetwork().isEmpty()) {
          assertThat(vm.getStatus().getNetwork().getFirst().getIp()).isNotBlank();
        }
      }
    }
  }

  @Test
  void aSpecOutsideTheSchemaIsRefusedAndNothingIsStored() throws Exception {
    String ns = system.namespace("ex-schema");
    String tooBig =
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata:
          name: too-big
        spec:
          vcpus: 64
          kernel:
            source:
              path: linux/vmlinux
        """;
    assertThatThrownBy(() -> system.applyYaml(ns, tooBig))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.vcpus");
    assertThat(system.get(ns, "too-big")).isNull();

    String misspelt =
        Files.readString(EXAMPLES.resolve("rate-limited-vm.yaml"))
            .replace("refillTimeMs: 100\n", "refillTimeMS: 100\n");
    assertThatThrownBy(() -> system.applyYaml(ns, misspelt))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("refillTimeMS");
    assertThat(system.get(ns, "throttled")).isNull();

    String noKernel =
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVMSet
        metadata:
          name: headless
        spec:
          replicas: 2
          selector:
            matchLabels: {app: headless}
          template:
            metadata:
              labels: {app: headless}
            spec:
              memoryMiB: 64
        """;
    assertThatThrownBy(() -> system.applyYaml(ns, noKernel))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("kernel");
  }

  @Test
  void aVmThatFitsNoNodeStaysPendingAndSaysWhy() {
    String ns = system.namespace("ex-unschedulable");
    ImageSource kernel = ImageSource.ofPath("nonexistent/vmlinux");
    system.apply(
        Manifests.vm(
            ns,
            "huge",
            kernel,
            s -> {
              s.setMemoryMiB(200_000);
              return s;
            }));
    MicroVM vm =
        system.await(
            ns,
            "huge",
            v -> v.getStatus() != null && v.getStatus().condition("Scheduled").isPresent());
    Condition scheduled = vm.getStatus().condition("Scheduled").orElseThrow();
    assertThat(scheduled.getStatus()).isEqualTo("False");
    assertThat(scheduled.getReason()).isEqualTo("Unschedulable");
    assertThat(scheduled.getMessage()).contains("memory");
    assertThat(phaseOf(vm)).isEqualTo(MicroVMPhase.Pending);
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> system.hasEvent(ns, "huge", "FailedScheduling"));
  }

  @Test
  void aMissingOrCorruptImageFailsTheVmWithItsReason() throws Exception {
    String ns = system.namespace("ex-images");
    system.apply(
        Manifests.vm(
            ns,
            "missing",
            ImageSource.ofPath(Manifests.underRoot(dir.resolve("no-such-kernel"))),
            Manifests::never));
    ImageSource good = images.publish(Files.writeString(dir.resolve("kernel-x"), "kernel bytes"));
    ImageSource corrupt = ImageSource.ofUrl(good.getUrl(), "0".repeat(64));
    system.apply(Manifests.vm(ns, "corrupt", corrupt, Manifests::never));

    for (var expected :
        Map.of("missing", "ImageNotFound", "corrupt", "ImageChecksumMismatch").entrySet()) {
      MicroVM vm = system.awaitPhase(ns, expected.getKey(), MicroVMPhase.Failed);
      Condition ready = vm.getStatus().condition("Ready").orElseThrow();
      assertThat(ready.getStatus()).isEqualTo("False");
      assertThat(ready.getReason()).isEqualTo(expected.getValue());
      assertThat(vm.getStatus().getExit().getReason()).isEqualTo(expected.getValue());
      await()
          .atMost(HearthSystem.PATIENCE)
          .until(() -> system.hasEvent(ns, expected.getKey(), expected.getValue()));
    }
  }

  @Test
  void aSetWhoseSelectorMissesItsTemplateIsRefused() {
    // Admission refuses it (a CEL rule of the CRD): the set would never count the MicroVMs it
    // creates. The operator's own SelectorMismatch, for a server without the rule, is
    // MicroVMSetTest's.
    String ns = system.namespace("ex-selector");
    String mismatched =
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVMSet
        metadata:
          name: lost
        spec:
          replicas: 1
          selector:
            matchLabels: {app: one}
          template:
            metadata:
              labels: {app: other}
            spec:
              kernel:
                source:
                  path: linux/vmlinux
        """;
    assertThatThrownBy(() -> system.applyYaml(ns, mismatched))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.selector")
        .hasMessageContaining("selector does not match template.metadata.labels");
    assertThat(system.client().resources(MicroVMSet.class).inNamespace(ns).withName("lost").get())
        .isNull();
    assertThat(system.client().resources(MicroVM.class).inNamespace(ns).list().getItems())
        .isEmpty();
  }
}
