package dev.hearth.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.ContainerBoot;
import dev.hearth.agent.testing.Loopback;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ordinary container image runs in a microVM ({@code spec.container}), applied as {@code kubectl
 * apply} sends it: the agent pulls the image from a real registry ({@link ContainerImages}),
 * unpacks it into an ext4 root disk, boots the node's Hearth kernel and init with the VM's config
 * appended to the initramfs, and the init runs the image's entrypoint as its user. The exit code
 * comes back through the VMM's guest-exit port: Succeeded with code 0, Failed with the code
 * otherwise; the output is on the console.
 */
@RequiresKvm
@RequiresLinuxKvm
@RequiresRoot
class ContainerEntrypointKvmIT {
  private static final String NODE = "ctr-node";
  private static final Cidr SUBNET = Cidr.parse("10.97.0.0/24");

  @TempDir static Path dir;
  private static HearthSystem system;
  private static AgentNode node;
  private static String image;

  @BeforeAll
  static void start() throws Exception {
    Loopback.up();
    FakeNodes.requireNetworkTools();
    TestGuest linux = TestGuest.locate();
    image = ContainerImages.reference();
    // The node's images root is "/" (AgentNode): the test guest's kernel and initramfs by path.
    ContainerBoot boot =
        new ContainerBoot(
            linux.vmlinux().toAbsolutePath().toString().substring(1),
            linux.initramfs().toAbsolutePath().toString().substring(1));
    system = HearthSystem.start();
    system.addKubeletNode(NODE, Map.of());
    node =
        system.addNode(
            new AgentNode.Spec(
                NODE,
                dir.resolve("node"),
                SUBNET,
                () -> new VmmRuntime(dir.resolve("vsock")),
                16,
                4096,
                Optional::empty,
                // The root disk has 256 MiB of free space (sparse) beside the image's files.
                b ->
                    b.imageCacheBytes(1L << 30)
                        .plainHttpRegistries(Set.of(ContainerImages.registryOf(image)))
                        .containerBoot(boot)));
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.close();
    }
  }

  private static String manifest(String name, String container) {
    return """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata:
          name: %s
        spec:
          memoryMiB: 128
          restartPolicy: Never
          container:
            image: %s
        %s
        """
        .formatted(name, image, container.indent(4).stripTrailing());
  }

  /** The VM's console; the guest's tty writes CR LF, read here as LF. */
  private String console(String ns, String name) throws Exception {
    return node.console(ns, name).body().replace("\r\n", "\n");
  }

  @Test
  void theEntrypointRunsAsTheImagesUserAndSucceeds() throws Exception {
    String ns = system.namespace("ctr-ok");
    system.applyYaml(
        ns,
        manifest(
            "hello",
            """
            args:
            - |
              echo "greeting=$GREETING extra=$EXTRA"
              id
              echo "cwd=$(pwd) home=$HOME"
              ls -1 /data
              test -e /data/gone || echo whiteout-ok
              echo "links=$(stat -c %h /bin/busybox) $(stat -c %i /bin/sh) $(stat -c %i /bin/busybox)"
              cat /data/added
            env:
            - {name: EXTRA, value: "from the spec"}
            workingDir: /tmp/work
            """));
    MicroVM vm = system.awaitPhase(ns, "hello", MicroVMPhase.Succeeded);
    assertThat(vm.getStatus().getExit().getReason()).isEqualTo(HearthApi.Reasons.COMPLETED);
    assertThat(vm.getStatus().getExit().getExitCode()).isZero();
    await().atMost(HearthSystem.PATIENCE).until(() -> console(ns, "hello").contains("code=0"));
    String out = console(ns, "hello");
    assertThat(out)
        .contains("greeting=from-image extra=from the spec")
        .contains("uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)")
        .contains("cwd=/tmp/work home=/home/app")
        .contains("added\nkept\n")
        .contains("whiteout-ok")
        .contains("added by layer 2")
        .contains("HEARTH-CONTAINER-EXIT code=0")
        .doesNotContain("image-default-cmd");
    String links = out.lines().filter(l -> l.startsWith("links=")).findFirst().orElseThrow();
    String[] parts = links.substring("links=".length()).split(" ");
    assertThat(parts[0]).as("busybox's link count, %s", links).isEqualTo("2");
    assertThat(parts[1]).as("/bin/sh is busybox's inode, %s", links).isEqualTo(parts[2]);
    assertThat(system.hasEvent(ns, "hello", HearthApi.Reasons.GUEST_EXITED)).isTrue();
  }

  @Test
  void aFailingCommandEndsFailedWithItsExitCode() throws Exception {
    String ns = system.namespace("ctr-fail");
    system.applyYaml(
        ns,
        manifest(
            "fails",
            """
            command: ["/bin/sh", "-c", "echo about to fail as $(id -un); exit 3"]
            """));
    MicroVM vm = system.awaitPhase(ns, "fails", MicroVMPhase.Failed);
    assertThat(vm.getStatus().getExit().getReason())
        .as("status.exit: %s", vm.getStatus().getExit().getMessage())
        .isEqualTo(HearthApi.Reasons.ERROR);
    assertThat(vm.getStatus().getExit().getExitCode()).isEqualTo(3);
    assertThat(vm.getStatus().getExit().getSignal()).isNull();
    await().atMost(HearthSystem.PATIENCE).until(() -> console(ns, "fails").contains("code=3"));
    assertThat(console(ns, "fails")).contains("about to fail as app");
    assertThat(system.hasEvent(ns, "fails", HearthApi.Reasons.GUEST_FAILED)).isTrue();
  }

  @Test
  void aMissingProgramCannotRun() throws Exception {
    String ns = system.namespace("ctr-missing");
    system.applyYaml(ns, manifest("missing", "command: [/no/such/program]\n"));
    MicroVM vm = system.awaitPhase(ns, "missing", MicroVMPhase.Failed);
    assertThat(vm.getStatus().getExit().getReason())
        .as("status.exit: %s", vm.getStatus().getExit().getMessage())
        .isEqualTo(HearthApi.Reasons.CONTAINER_CANNOT_RUN);
    assertThat(vm.getStatus().getExit().getExitCode()).isEqualTo(127);
  }
}
