package dev.hearth.agent.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.container.ContainerInitrd;
import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.api.v1alpha1.ContainerEnvVar;
import dev.hearth.api.v1alpha1.ContainerSpec;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.PullSecretReference;
import dev.hearth.api.v1alpha1.RootfsSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spec.container mapped to a plan, and the plan's images with the VM's own initrd. */
class ContainerPlanTest {
  private static final SpecMapper MAPPER =
      new SpecMapper(
          new VmRuntime.Capabilities(4, true, true, 3, 2),
          new ContainerBoot("boot/k", "boot/i.cpio.gz"));

  @TempDir Path dir;

  private static MicroVMSpec spec(ContainerSpec c) {
    MicroVMSpec s = new MicroVMSpec();
    s.setContainer(c);
    s.setImagePullSecrets(List.of(new PullSecretReference("regcred")));
    return s;
  }

  private static ContainerSpec container() {
    ContainerSpec c = new ContainerSpec("registry.example.org:5000/team/app:1");
    c.setCommand(List.of("/bin/sh", "-c"));
    c.setArgs(List.of("echo \"$X\"; exit 3"));
    c.setEnv(List.of(new ContainerEnvVar("X", "a b"), new ContainerEnvVar("PATH", "/bin")));
    c.setWorkingDir("/work");
    return c;
  }

  @Test
  void aContainerBootsTheNodesKernelWithTheImageAsItsRootDisk() throws Exception {
    VmPlan plan = MAPPER.map(spec(container()));
    assertThat(plan.kernel()).isEqualTo(new ImageRef.NodeFile("boot/k", Optional.empty()));
    assertThat(plan.initrd()).contains(new ImageRef.NodeFile("boot/i.cpio.gz", Optional.empty()));
    ImageRef.Oci root = (ImageRef.Oci) plan.rootfs().orElseThrow().source();
    assertThat(root.reference().toString()).isEqualTo("registry.example.org:5000/team/app:1");
    assertThat(root.file()).isEmpty();
    assertThat(root.pullSecrets()).containsExactly("regcred");
    assertThat(plan.rootfs().orElseThrow().readOnly()).isFalse();
    assertThat(plan.container().orElseThrow().overrides().command())
        .containsExactly("/bin/sh", "-c");
    assertThat(plan.container().orElseThrow().overrides().env())
        .containsExactly(java.util.Map.entry("X", "a b"), java.util.Map.entry("PATH", "/bin"));
    String cmdline = plan.generatedCmdline(Optional.empty());
    assertThat(cmdline).contains("quiet", "hearth.boottimer=pio:0x3f0").doesNotContain("root=");
  }

  @Test
  void aContainerWithAKernelOrRootfsOrWithoutAnImageIsRefused() {
    MicroVMSpec withKernel = spec(container());
    withKernel.setKernel(new KernelSpec(dev.hearth.api.v1alpha1.ImageSource.ofPath("k")));
    assertThatThrownBy(() -> MAPPER.map(withKernel)).hasMessageContaining("must not be set");
    MicroVMSpec withRoot = spec(container());
    withRoot.setRootfs(new RootfsSpec(dev.hearth.api.v1alpha1.ImageSource.ofPath("r")));
    assertThatThrownBy(() -> MAPPER.map(withRoot)).hasMessageContaining("must not be set");
    assertThatThrownBy(() -> MAPPER.map(spec(new ContainerSpec("Bad Image"))))
        .hasMessageStartingWith("spec.container.image");
    ContainerSpec dup = container();
    dup.setEnv(List.of(new ContainerEnvVar("A", "1"), new ContainerEnvVar("A", "2")));
    assertThatThrownBy(() -> MAPPER.map(spec(dup))).hasMessageContaining("unique");
    ContainerSpec relative = container();
    relative.setWorkingDir("work");
    assertThatThrownBy(() -> MAPPER.map(spec(relative))).hasMessageContaining("absolute");
    ContainerSpec nul = container();
    nul.setArgs(List.of("a\0b"));
    assertThatThrownBy(() -> MAPPER.map(spec(nul))).hasMessageContaining("spec.container.args[0]");
    assertThatThrownBy(() -> MAPPER.map(new MicroVMSpec()))
        .hasMessageContaining("spec.kernel.source is required");
  }

  @Test
  void preparingWritesTheVmsInitrdFromTheImageConfig() throws Exception {
    Files.createDirectories(dir.resolve("boot"));
    Files.writeString(dir.resolve("boot/k"), "kernel");
    Files.write(dir.resolve("boot/i.cpio.gz"), new byte[] {9, 9, 9});
    Files.writeString(dir.resolve("root.ext4"), "ext4");
    Files.writeString(
        dir.resolve("config.json"),
        "{\"config\":{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"x\"],\"Env\":[\"X=image\",\"Y=1\"],"
            + "\"User\":\"app\"}}");
    String digest = "sha256:" + "ab".repeat(32);
    PlanImages images =
        new PlanImages() {
          @Override
          public Path resolve(String field, ImageRef source) throws ImageException {
            return switch (source) {
              case ImageRef.NodeFile f -> dir.resolve(f.path());
              // Both pulls of the launch go by the digest that the tag was pinned to.
              case ImageRef.Oci o when o.reference().digest().equals(Optional.of(digest)) ->
                  dir.resolve("root.ext4");
              case ImageRef.OciConfig c when c.reference().digest().equals(Optional.of(digest)) ->
                  dir.resolve("config.json");
              default -> throw new ImageException.NotFound(field + ": " + source);
            };
          }

          @Override
          public ImageReference pin(String field, ImageRef.OciConfig image) {
            ImageReference r = image.reference();
            return new ImageReference(r.registry(), r.repository(), r.tag(), Optional.of(digest));
          }
        };
    Path disks = dir.resolve("vms/uid/disks");
    LaunchImages launch = LaunchImages.prepare(MAPPER.map(spec(container())), images, disks);
    Path initrd = launch.initrd().orElseThrow();
    assertThat(initrd).isEqualTo(dir.resolve("vms/uid/" + LaunchImages.CONTAINER_INITRD));
    assertThat(launch.kernel()).isEqualTo(dir.resolve("boot/k"));
    assertThat(launch.disks().getFirst().path()).isEqualTo(disks.resolve("rootfs"));
    byte[] all = Files.readAllBytes(initrd);
    String tail = new String(all, 4, all.length - 4, StandardCharsets.UTF_8);
    assertThat(tail)
        .contains(ContainerInitrd.CONFIG_PATH.substring(1))
        .contains("a 7\n/bin/sh\na 2\n-c\na 17\necho \"$X\"; exit 3\n")
        .contains("e 5\nX=a b\ne 3\nY=1\ne 9\nPATH=/bin\n")
        .contains("w 5\n/work\nu 3\napp\n");
  }
}
