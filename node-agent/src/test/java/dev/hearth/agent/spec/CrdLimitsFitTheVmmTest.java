package dev.hearth.agent.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMLimits;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import dev.hearth.api.v1alpha1.VsockSpec;
import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.devices.virtio.vsock.VsockConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The CRD's limits (the constants of the API model, which its schema and CEL rules are built from,
 * and which SpecMapper checks again) against the VMM's own: what admission lets through, the VMM
 * takes. The crds module cannot see the VMM, so the comparison lives here.
 */
class CrdLimitsFitTheVmmTest {

  @Test
  void theLongestCommandLineFitsBesideTheAgentsOwnArguments() throws Exception {
    // The agent's arguments at their longest: a read-write rootfs and an ip= with the longest
    // addresses (15 characters each) and a 63-character hostname.
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("k")));
    spec.setRootfs(new RootfsSpec(ImageSource.ofPath("r")));
    VmPlan plan = new SpecMapper(new VmmRuntime().capabilities()).map(spec);
    Cidr subnet = Cidr.parse("255.255.255.128/25");
    Attachment nic =
        new Attachment(
            "eth0",
            "o",
            "t",
            "02:00:00:00:00:01",
            Cidr.toInet(subnet.firstGuest()),
            subnet,
            Cidr.toInet(subnet.gateway()));
    String generated =
        plan.generatedCmdline(Optional.of(nic.kernelIpArgument("h".repeat(63), "eth0")));
    // VmmRuntime joins them with one space.
    assertThat(generated.length() + 1 + KernelSpec.MAX_CMDLINE)
        .isLessThanOrEqualTo(BootSource.MAX_CMDLINE);
  }

  @Test
  void everyDeviceTheCrdAllowsHasASlot() {
    // Disks (the rootfs included) and interfaces at their maximum, plus vsock and the rng.
    assertThat(MicroVMLimits.MAX_DISKS + MicroVMLimits.MAX_NICS + 2)
        .isLessThanOrEqualTo(VmDevices.MAX_DEVICES);
    VmRuntime.Capabilities caps = new VmmRuntime().capabilities();
    assertThat(caps.maxDrives()).isEqualTo(MicroVMLimits.MAX_DISKS);
    assertThat(caps.maxNics()).isEqualTo(MicroVMLimits.MAX_NICS);
  }

  @Test
  void namesAndBoundsAreTheVmms() {
    assertThat(MicroVMLimits.RNG_NAME).isEqualTo(RngConfig.ID);
    assertThat(DriveSpec.MAX_SERIAL).isEqualTo(DriveConfig.MAX_SERIAL);
    assertThat(TokenBucketSpec.MAX_REFILL_TIME_MS)
        .isEqualTo(TokenBucketConfig.MAX_REFILL_TIME_MILLIS);
    assertThat(VsockSpec.MIN_CID).isEqualTo(VsockConfig.MIN_GUEST_CID);
    assertThat(MicroVMLimits.MAX_VCPUS).isEqualTo(VmConfig.MAX_VCPUS);
    assertThat((long) MicroVMLimits.MIN_MEMORY_MIB).isGreaterThanOrEqualTo(VmConfig.MIN_MEMORY_MIB);
    assertThat((long) MicroVMLimits.MAX_MEMORY_MIB).isLessThanOrEqualTo(VmConfig.MAX_MEMORY_MIB);
    assertThat(VsockSpec.MAX_CID).isEqualTo(VsockConfig.MAX_GUEST_CID);
  }
}
