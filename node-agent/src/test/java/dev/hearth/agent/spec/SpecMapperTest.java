package dev.hearth.agent.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.net.GuestPolicy;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.EgressPort;
import dev.hearth.api.v1alpha1.EgressProtocol;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.NetworkPolicySpec;
import dev.hearth.api.v1alpha1.OciImageSource;
import dev.hearth.api.v1alpha1.PeerRule;
import dev.hearth.api.v1alpha1.PullSecretReference;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import dev.hearth.api.v1alpha1.VsockSpec;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The one spec-to-plan mapping of the agent and {@code hearth run}: every value the VMM would
 * refuse, or that escapes the images root, is rejected with the field named, as InvalidSpec (the
 * CRD should have refused it) or UnsupportedSpec (valid, but beyond this VMM).
 */
class SpecMapperTest {
  private static final VmRuntime.Capabilities CAPS =
      new VmRuntime.Capabilities(4, true, true, 3, 2);
  private static final SpecMapper MAPPER = new SpecMapper(CAPS);
  private static final String SHA = "ab".repeat(32);

  private static MicroVMSpec spec(Consumer<MicroVMSpec> customize) {
    MicroVMSpec s = new MicroVMSpec();
    s.setKernel(new KernelSpec(ImageSource.ofPath("linux/vmlinux")));
    customize.accept(s);
    return s;
  }

  private static void rejected(Consumer<MicroVMSpec> customize, String reason, String message) {
    assertThatThrownBy(() -> MAPPER.map(spec(customize)))
        .isInstanceOf(SpecRejectedException.class)
        .hasMessageStartingWith(message)
        .extracting(e -> ((SpecRejectedException) e).reason())
        .isEqualTo(reason);
  }

  private static void invalid(Consumer<MicroVMSpec> customize, String message) {
    rejected(customize, SpecRejectedException.INVALID, message);
  }

  @Test
  void aFullSpecBecomesAPlan() throws Exception {
    VmPlan plan =
        MAPPER.map(
            spec(
                s -> {
                  s.setVcpus(2);
                  s.setInitrd(ImageSource.ofPath("linux/initramfs.cpio.gz"));
                  RootfsSpec root = new RootfsSpec(ImageSource.ofPath("linux/rootfs.ext4"));
                  root.setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(4096, 100), null));
                  s.setRootfs(root);
                  s.setDrives(
                      List.of(new DriveSpec("data", ImageSource.ofUrl("https://x/d", SHA))));
                  s.setNetwork(List.of(new NetworkInterfaceSpec("eth0")));
                  s.setVsock(new VsockSpec(3));
                  s.getKernel().setCmdline("  quiet ");
                }));
    assertThat(plan.vcpus()).isEqualTo(2);
    assertThat(plan.kernel()).isEqualTo(new ImageRef.NodeFile("linux/vmlinux", Optional.empty()));
    assertThat(plan.extraCmdline()).isEqualTo("quiet");
    assertThat(plan.disks()).extracting(VmPlan.DiskPlan::name).containsExactly("rootfs", "data");
    assertThat(plan.fieldOf(plan.disks().get(1))).isEqualTo("spec.drives[0]");
    assertThat(plan.limits().disks().get("rootfs").bandwidth())
        .contains(new VmLaunch.Bucket(4096, 100, 0));
    assertThat(plan.generatedCmdline(Optional.of("ip=x")))
        .isEqualTo("console=ttyS0 reboot=k panic=1 root=/dev/vda rw ip=x");
  }

  @Test
  void theNetworkPolicyOpensWhatItNamesAndTheDefaultOpensNothing() throws Exception {
    assertThat(MAPPER.map(spec(s -> {})).networkPolicy())
        .isEqualTo(VmPlan.NetworkPolicyPlan.DEFAULT);
    EgressPort range = new EgressPort(EgressProtocol.TCP, 8000);
    range.setEndPort(8080);
    NetworkPolicySpec policy = new NetworkPolicySpec();
    policy.setAllowSameNamespace(false);
    policy.setEgress(
        List.of(
            new PeerRule(
                "10.96.0.10/32",
                List.of(new EgressPort(EgressProtocol.UDP, 53), range, new EgressPort())),
            new PeerRule("169.254.169.254/32", List.of())));
    VmPlan plan = MAPPER.map(spec(s -> s.setNetworkPolicy(policy)));
    assertThat(plan.networkPolicy().forGroup("team-a"))
        .isEqualTo(
            new GuestPolicy(
                "team-a",
                false,
                List.of(
                    new GuestPolicy.Egress(
                        IpBlock.parse("10.96.0.10/32"),
                        List.of(
                            new GuestPolicy.Ports(GuestPolicy.Protocol.UDP, 53, 53),
                            new GuestPolicy.Ports(GuestPolicy.Protocol.TCP, 8000, 8080),
                            GuestPolicy.Ports.all(GuestPolicy.Protocol.TCP))),
                    new GuestPolicy.Egress(IpBlock.parse("169.254.169.254/32"), List.of()))));
  }

  @Test
  void aNetworkPolicyThatAdmissionWouldRefuseNeverReachesTheRules() {
    for (String cidr : List.of("10.0.0.0/8 accept", "10.96.0.1/12", "fd00::/8", "0.0.0.0")) {
      invalid(
          s -> s.setNetworkPolicy(egress(new PeerRule(cidr, List.of()))),
          "spec.networkPolicy.egress[0].cidr: ");
    }
    invalid(
        s -> s.setNetworkPolicy(egress(new PeerRule(null, List.of()))),
        "spec.networkPolicy.egress[0].cidr is required");
    EgressPort backwards = new EgressPort(EgressProtocol.TCP, 443);
    backwards.setEndPort(80);
    invalid(
        s -> s.setNetworkPolicy(egress(new PeerRule("10.0.0.0/8", List.of(backwards)))),
        "spec.networkPolicy.egress[0].ports[0].endPort 80 is below port 443");
    invalid(
        s ->
            s.setNetworkPolicy(
                egress(new PeerRule("10.0.0.0/8", List.of(new EgressPort(null, 65536))))),
        "spec.networkPolicy.egress[0].ports[0]: ports must be 1 to 65535");
    PeerRule[] many = new PeerRule[NetworkPolicySpec.MAX_EGRESS_RULES + 1];
    java.util.Arrays.fill(many, new PeerRule("10.0.0.0/8", List.of()));
    invalid(s -> s.setNetworkPolicy(egress(many)), "spec.networkPolicy.egress has 33 rules");
    List<EgressPort> ports =
        java.util.Collections.nCopies(PeerRule.MAX_PORTS + 1, new EgressPort(null, 1));
    invalid(
        s -> s.setNetworkPolicy(egress(new PeerRule("10.0.0.0/8", ports))),
        "spec.networkPolicy.egress[0].ports has 17 entries");
  }

  private static NetworkPolicySpec egress(PeerRule... rules) {
    NetworkPolicySpec p = new NetworkPolicySpec();
    p.setEgress(List.of(rules));
    return p;
  }

  @Test
  void imagePathsMustStayUnderTheImagesRoot() {
    invalid(
        s -> s.getKernel().getSource().setPath("/etc/passwd"),
        "spec.kernel.source.path: image path '/etc/passwd' must be relative");
    invalid(
        s -> s.setInitrd(ImageSource.ofPath("../../etc/shadow")),
        "spec.initrd.path: image path '../../etc/shadow' must not contain");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec("d", ImageSource.ofPath("a//b")))),
        "spec.drives[0].source.path: ");
  }

  @Test
  void imageSourcesNeedExactlyOneOfPathAndUrl() {
    invalid(s -> s.getKernel().getSource().setUrl("https://x/k"), "spec.kernel.source: exactly");
    invalid(
        s -> s.setKernel(new KernelSpec(ImageSource.ofUrl("https://x/k", null))),
        "spec.kernel.source: a url source requires sha256");
    invalid(
        s -> s.getKernel().getSource().setSha256(SHA),
        "spec.kernel.source.sha256 is only used with a url source");
    invalid(
        s -> s.setKernel(new KernelSpec(ImageSource.ofUrl("ftp://x/k", SHA))),
        "spec.kernel.source: image URL ftp://x/k is not http(s)");
    invalid(s -> s.setKernel(new KernelSpec()), "spec.kernel.source is required");
    invalid(s -> s.setRootfs(new RootfsSpec()), "spec.rootfs.source is required");
  }

  @Test
  void ociSourcesMapWithThePullSecretsAndKernelsNeedAFile() throws Exception {
    OciImageSource kernel = new OciImageSource("registry.example.org:5000/hearth/kernel:6.1");
    kernel.setPath("boot/vmlinux");
    VmPlan plan =
        MAPPER.map(
            spec(
                s -> {
                  s.setKernel(new KernelSpec(ImageSource.ofOci(kernel)));
                  s.setRootfs(
                      new RootfsSpec(
                          ImageSource.ofOci(
                              new OciImageSource("busybox@sha256:" + "a".repeat(64)))));
                  s.setImagePullSecrets(
                      List.of(
                          new PullSecretReference("regcred"), new PullSecretReference("regcred")));
                }));
    var k = (ImageRef.Oci) plan.kernel();
    assertThat(k.reference().registry()).isEqualTo("registry.example.org:5000");
    assertThat(k.reference().repository()).isEqualTo("hearth/kernel");
    assertThat(k.file()).contains("boot/vmlinux");
    assertThat(k.pullSecrets()).containsExactly("regcred");
    var root = (ImageRef.Oci) plan.rootfs().orElseThrow().source();
    assertThat(root.reference().registry()).isEqualTo("docker.io");
    assertThat(root.reference().repository()).isEqualTo("library/busybox");
    assertThat(root.reference().digest()).contains("sha256:" + "a".repeat(64));
    assertThat(root.file()).isEmpty();

    invalid(
        s -> s.setKernel(new KernelSpec(ImageSource.ofOci(new OciImageSource("k:1")))),
        "spec.kernel.source.oci needs a path: a kernel is one file inside the image");
    invalid(
        s -> s.setRootfs(new RootfsSpec(ImageSource.ofOci(new OciImageSource("Team/App")))),
        "spec.rootfs.source.oci.image: 'Team/App' is not an image reference");
    OciImageSource escape = new OciImageSource("k:1");
    escape.setPath("../etc/shadow");
    invalid(
        s -> s.setKernel(new KernelSpec(ImageSource.ofOci(escape))),
        "spec.kernel.source.oci.path: image path '../etc/shadow' must not contain");
    invalid(
        s -> s.setImagePullSecrets(List.of(new PullSecretReference("Bad_Name"))),
        "spec.imagePullSecrets[0].name: an image pull secret's name must be a Secret name");
  }

  @Test
  void shapeOutsideTheVmmsLimitsIsRefused() {
    invalid(s -> s.setVcpus(0), "spec.vcpus 0 is outside 1..32");
    rejected(
        s -> s.setVcpus(5),
        SpecRejectedException.UNSUPPORTED,
        "spec.vcpus 5 exceeds this node's VMM limit of 4");
    invalid(s -> s.setMemoryMiB(8), "spec.memoryMiB 8 is below 16");
    invalid(
        s -> s.getKernel().setCmdline("x".repeat(1025)),
        "spec.kernel.cmdline is longer than 1024 characters");
    invalid(s -> s.setVsock(new VsockSpec(2)), "spec.vsock.cid 2 is outside 3..4294967294");
  }

  @Test
  void devicesAreNamedOnceAndCounted() {
    DriveSpec d = new DriveSpec("d", ImageSource.ofPath("x"));
    rejected(
        s ->
            s.setDrives(
                List.of(
                    d,
                    new DriveSpec("e", d.getSource()),
                    new DriveSpec("f", d.getSource()),
                    new DriveSpec("g", d.getSource()))),
        SpecRejectedException.UNSUPPORTED,
        "this node's VMM attaches at most 3 disks");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec("rootfs", d.getSource()))),
        "spec.drives[0].name 'rootfs' is reserved");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec("Bad", d.getSource()))),
        "spec.drives[0].name 'Bad' is not a DNS label");
    invalid(
        s ->
            s.setNetwork(
                List.of(new NetworkInterfaceSpec("eth0"), new NetworkInterfaceSpec("eth0"))),
        "spec.network[1].name 'eth0' is already another drive's or interface's name");
    NetworkInterfaceSpec multicast = new NetworkInterfaceSpec("eth0");
    multicast.setMacAddress("01:00:5e:00:00:01");
    invalid(
        s -> s.setNetwork(List.of(multicast)),
        "spec.network[0].macAddress '01:00:5e:00:00:01' is not a unicast MAC");
    rejected(
        s ->
            s.setNetwork(
                List.of(
                    new NetworkInterfaceSpec("a"),
                    new NetworkInterfaceSpec("b"),
                    new NetworkInterfaceSpec("c"))),
        SpecRejectedException.UNSUPPORTED,
        "this node's VMM attaches at most 2 network interfaces");
  }

  @Test
  void theCommandLineIsWhatAdmissionTakes() throws Exception {
    // The CRD's limit, which leaves room in the VMM's 1536 for the agent's own arguments.
    String longest = "x".repeat(1024);
    assertThat(MAPPER.map(spec(s -> s.getKernel().setCmdline(longest))).extraCmdline())
        .isEqualTo(longest);
    for (String bad : List.of("quiet\tinit=/x", "a\nb", "console=ttyS0 ünïcode", "\u001b[2J")) {
      invalid(
          s -> s.getKernel().setCmdline(bad),
          "spec.kernel.cmdline may hold only printable ASCII characters");
    }
  }

  @Test
  void devicesShareOneNamespaceWithTheVmmsOwn() {
    ImageSource x = ImageSource.ofPath("x");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec("rng", x))),
        "spec.drives[0].name 'rng' is reserved: the VMM names the root disk and the entropy");
    invalid(
        s -> s.setNetwork(List.of(new NetworkInterfaceSpec("rootfs"))),
        "spec.network[0].name 'rootfs' is reserved");
    invalid(
        s -> s.setNetwork(List.of(new NetworkInterfaceSpec("rng"))),
        "spec.network[0].name 'rng' is reserved");
    invalid(
        s -> {
          s.setDrives(List.of(new DriveSpec("data", x)));
          s.setNetwork(List.of(new NetworkInterfaceSpec("data")));
        },
        "spec.network[0].name 'data' is already another drive's or interface's name");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec("d".repeat(64), x))),
        "spec.drives[0].name '" + "d".repeat(64) + "' is not a DNS label of at most 63");
  }

  @Test
  void readOnlyDisksDoNotShareAnImage() throws Exception {
    DriveSpec a = new DriveSpec("a", ImageSource.ofPath("shared.img"));
    DriveSpec b = new DriveSpec("b", ImageSource.ofPath("shared.img"));
    // Writable disks each get a copy of their own: they may share an image.
    assertThat(MAPPER.map(spec(s -> s.setDrives(List.of(a, b)))).disks()).hasSize(2);
    a.setReadOnly(true);
    assertThat(MAPPER.map(spec(s -> s.setDrives(List.of(a, b)))).disks()).hasSize(2);
    b.setReadOnly(true);
    invalid(
        s -> s.setDrives(List.of(a, b)),
        "spec.drives[1].source: read-only spec.drives[0] uses the same image");
    // One download, cached by its sha256, is one file too, whatever the URLs.
    DriveSpec u = new DriveSpec("u", ImageSource.ofUrl("https://x/one", SHA));
    DriveSpec v = new DriveSpec("v", ImageSource.ofUrl("https://y/two", SHA));
    u.setReadOnly(true);
    v.setReadOnly(true);
    invalid(
        s -> s.setDrives(List.of(u, v)),
        "spec.drives[1].source: read-only spec.drives[0] uses the same image");
    RootfsSpec root = new RootfsSpec(ImageSource.ofPath("shared.img"));
    assertThat(
            MAPPER
                .map(
                    spec(
                        s -> {
                          s.setRootfs(root);
                          s.setDrives(List.of(a));
                        }))
                .disks())
        .hasSize(2);
    root.setReadOnly(true);
    invalid(
        s -> {
          s.setRootfs(root);
          s.setDrives(List.of(a));
        },
        "spec.drives[0].source: read-only spec.rootfs uses the same image");
  }

  @Test
  void macsSerialsAndRefillTimesAreWhatTheVmmTakes() {
    NetworkInterfaceSpec zero = new NetworkInterfaceSpec("eth0");
    zero.setMacAddress("00:00:00:00:00:00");
    invalid(s -> s.setNetwork(List.of(zero)), "spec.network[0].macAddress must not be all zeros");
    for (String serial : List.of("s".repeat(21), "has space", "séria")) {
      DriveSpec d = new DriveSpec("d", ImageSource.ofPath("x"));
      d.setSerial(serial);
      invalid(
          s -> s.setDrives(List.of(d)),
          "spec.drives[0].serial '" + serial + "' must be at most 20 letters");
    }
    RootfsSpec root = new RootfsSpec(ImageSource.ofPath("r"));
    root.setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(1, 9223372037L), null));
    invalid(
        s -> s.setRootfs(root),
        "spec.rootfs.rateLimiter.bandwidth.refillTimeMs 9223372037 is above the VMM's 9223372036");
  }

  @Test
  void tokenBucketsNeedBothSizeAndRefill() {
    RootfsSpec root = new RootfsSpec(ImageSource.ofPath("r"));
    TokenBucketSpec noRefill = new TokenBucketSpec(5L, null, null);
    root.setRateLimiter(new RateLimiterSpec(noRefill, null));
    invalid(
        s -> s.setRootfs(root),
        "spec.rootfs.rateLimiter.bandwidth: size and refillTimeMs must both be set");
    RootfsSpec burst = new RootfsSpec(ImageSource.ofPath("r"));
    TokenBucketSpec burstOnly = new TokenBucketSpec(null, null, 5L);
    burst.setRateLimiter(new RateLimiterSpec(null, burstOnly));
    invalid(
        s -> s.setRootfs(burst), "spec.rootfs.rateLimiter.ops: oneTimeBurst requires a non-zero");
  }

  @Test
  void aVmmWithoutInitrdOrVsockSaysSo() {
    SpecMapper bare = new SpecMapper(new VmRuntime.Capabilities(4, false, false, 3, 2));
    assertThatThrownBy(() -> bare.map(spec(s -> s.setInitrd(ImageSource.ofPath("i")))))
        .hasMessage("spec.initrd: this node's VMM cannot load an initrd");
    assertThatThrownBy(() -> bare.map(spec(s -> s.setVsock(new VsockSpec(3)))))
        .hasMessage("spec.vsock: this node's VMM has no vsock device");
    assertThatThrownBy(() -> MAPPER.map(null)).hasMessage("spec is missing");
  }

  @Test
  void everyOtherRejectionNamesItsField() {
    invalid(s -> s.setVcpus(33), "spec.vcpus 33 is outside 1..32");
    invalid(s -> s.setVsock(new VsockSpec()), "spec.vsock.cid null is outside 3..4294967294");
    invalid(
        s -> s.setVsock(new VsockSpec(4294967295L)),
        "spec.vsock.cid 4294967295 is outside 3..4294967294");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec("d", null))), "spec.drives[0].source is required");
    invalid(
        s -> s.setDrives(List.of(new DriveSpec(null, ImageSource.ofPath("x")))),
        "spec.drives[0].name 'null' is not a DNS label");
    NetworkInterfaceSpec a = new NetworkInterfaceSpec("a");
    a.setMacAddress("02:00:00:00:00:01");
    NetworkInterfaceSpec b = new NetworkInterfaceSpec("b");
    b.setMacAddress("02:00:00:00:00:01".toUpperCase());
    invalid(
        s -> s.setNetwork(List.of(a, b)),
        "spec.network[1].macAddress '02:00:00:00:00:01' is used twice");
    NetworkInterfaceSpec negative = new NetworkInterfaceSpec("eth0");
    TokenBucketSpec minus = new TokenBucketSpec(-1L, null, null);
    negative.setTxRateLimiter(new RateLimiterSpec(null, minus));
    invalid(
        s -> s.setNetwork(List.of(negative)),
        "spec.network[0].txRateLimiter.ops: size, refillTimeMs and oneTimeBurst must not be");
  }
}
