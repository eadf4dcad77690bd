package dev.hearth.agent.cli;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.local.HostUnavailableException;
import dev.hearth.agent.local.KvmCannotRunGuestException;
import dev.hearth.agent.local.LocalNetwork;
import dev.hearth.agent.local.LocalRun;
import dev.hearth.agent.local.ManifestException;
import dev.hearth.agent.local.RunException;
import dev.hearth.agent.spec.ContainerBoot;
import dev.hearth.vmm.config.SeccompMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hearth run <manifest.yaml>}: boots one MicroVM manifest on this machine, no cluster. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Boot a MicroVM manifest on this machine and stream its console.",
      "A MicroVMSet boots one replica of its template (<set>-0). A guest that ends boots again"
          + " as its restartPolicy says (Always is the default), with the node agent's back-off,"
          + " until Ctrl-C.",
      "spec.network needs root: each interface gets a tap on a bridge of the run's own, an"
          + " address from its subnet and NAT out; all of it is removed when the run ends.",
      "Image paths are relative to the images folder (--images-dir), as a node's are to its"
          + " agent's.",
      "Exit status: 0 when the guest resets or powers off, 1 when it crashes,"
          + " 2 for bad input, 3 when KVM is missing or refuses, 4 when the VMM fails,"
          + " 5 when this host's KVM cannot run the guest's kernel (Linux on a KVM that only"
          + " emulates; ./hearth then boots it in the nested-KVM harness), 130 when interrupted."
    })
final class RunCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "MANIFEST", description = "A MicroVM manifest (YAML).")
  Path manifest;

  @Option(
      names = "--seccomp",
      paramLabel = "MODE",
      defaultValue = "${env:HEARTH_SECCOMP:-ENFORCE}",
      description =
          "How the VMs' vCPU and device threads are filtered: ENFORCE (default: a system call off"
              + " their allow-list fails with EPERM and is logged by the kernel), LOG (allowed and"
              + " logged: for finding what a list misses) or OFF (for debugging only). Also"
              + " $HEARTH_SECCOMP.")
  SeccompMode seccomp = SeccompMode.ENFORCE;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where downloaded images are cached (default: ~/.cache/hearth/images).")
  Path cacheDir = Path.of(System.getProperty("user.home"), ".cache", "hearth", "images");

  @Option(
      names = "--images-dir",
      paramLabel = "DIR",
      defaultValue = "${env:HEARTH_IMAGES_DIR}",
      description =
          "The images folder that image paths are relative to, as the node agent's --images-dir is"
              + " on a node (default: $HEARTH_IMAGES_DIR, else the manifest's folder). Nothing"
              + " outside it can be named, symbolic links included.")
  Path imagesDir;

  @Option(
      names = "--insecure-registry",
      paramLabel = "HOST[:PORT]",
      split = ",",
      description =
          "An OCI registry to reach over plain http instead of https (repeatable), such as a"
              + " registry on this machine's loopback.")
  List<String> insecureRegistries = new ArrayList<>();

  @Option(
      names = "--registry-auth-file",
      paramLabel = "FILE",
      defaultValue = "${env:REGISTRY_AUTH_FILE}",
      description =
          "A docker config file (auths) with registry credentials for the manifest's OCI images"
              + " (default: $REGISTRY_AUTH_FILE, else ~/.docker/config.json when it exists). The"
              + " manifest's imagePullSecrets name cluster Secrets, which hearth run cannot read.")
  Path registryAuthFile;

  @Option(
      names = "--bridge",
      paramLabel = "NAME",
      description =
          "The bridge for the VM's interfaces, made for this run and removed after it (default:"
              + " hearth-run<n>, n the first free of this host's hearth runs; never the node"
              + " agent's hearth0). It must not exist yet.")
  String bridge;

  @Option(
      names = "--subnet",
      paramLabel = "CIDR",
      description =
          "The guests' subnet on that bridge, NATed out (default: 10.214.<n>.0/24). It must not"
              + " overlap a route of this host.")
  String subnet;

  @Option(
      names = "--container-kernel",
      paramLabel = "PATH",
      defaultValue = "hearth/vmlinux",
      description =
          "The kernel a manifest's spec.container boots, under the images folder (default"
              + " ${DEFAULT-VALUE}; ./hearth puts the Linux test guest's there).")
  String containerKernel;

  @Option(
      names = "--container-initramfs",
      paramLabel = "PATH",
      defaultValue = "hearth/initramfs.cpio.gz",
      description =
          "The initramfs with Hearth's init that spec.container boots, under the images folder"
              + " (default ${DEFAULT-VALUE}).")
  String containerInitramfs;

  @Override
  public Integer call() {
    try {
      Path root = imagesDir != null ? imagesDir : manifest.toAbsolutePath().getParent();
      LocalNetwork.Settings network =
          new LocalNetwork.Settings(Optional.ofNullable(bridge), subnet(), LocalNetwork.STATE_ROOT);
      Path dockerConfig = Path.of(System.getProperty("user.home"), ".docker", "config.json");
      Optional<Path> auth =
          Optional.ofNullable(registryAuthFile)
              .or(() -> Optional.of(dockerConfig).filter(Files::isReadable));
      LocalRun.Registries registries =
          new LocalRun.Registries(
              insecureRegistries.stream().map(String::strip).collect(Collectors.toSet()), auth);
      ContainerBoot boot;
      try {
        boot = new ContainerBoot(containerKernel, containerInitramfs);
      } catch (IllegalArgumentException e) {
        throw new UserFacingException(UserFacingException.BAD_INPUT, e.getMessage());
      }
      return LocalRun.onThisHost(root, cacheDir, network, registries, System.err, seccomp)
          .withContainerBoot(boot)
          .run(manifest, System.out);
    } catch (KvmCannotRunGuestException e) {
      throw new UserFacingException(UserFacingException.KVM_CANNOT_RUN_GUEST, e.getMessage());
    } catch (HostUnavailableException e) {
      throw new UserFacingException(UserFacingException.UNAVAILABLE, e.getMessage());
    } catch (RunException e) {
      throw new UserFacingException(UserFacingException.BAD_INPUT, e.getMessage());
    }
  }

  private Optional<Cidr> subnet() throws ManifestException {
    try {
      return Optional.ofNullable(subnet).map(Cidr::parse);
    } catch (IllegalArgumentException e) {
      throw new ManifestException("--subnet: " + e.getMessage(), e);
    }
  }
}
