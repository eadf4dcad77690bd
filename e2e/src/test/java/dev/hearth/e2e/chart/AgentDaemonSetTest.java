package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The agent DaemonSet and Hearth's device plugin: devices, host networking, the image cache and how
 * far each is privileged.
 */
class AgentDaemonSetTest {

  @Test
  void mountsTheImageCacheAndTheVsockSocketsFromTheNodeButNoDeviceByDefault() {
    Rendered chart = Helm.render("--set", "agent.dataDir=/srv/hearth");
    PodSpec pod = chart.agent().getSpec().getTemplate().getSpec();
    Map<String, Volume> volumes =
        pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, Function.identity()));
    Map<String, String> mounts =
        chart.agentContainer().getVolumeMounts().stream()
            .collect(Collectors.toMap(VolumeMount::getMountPath, VolumeMount::getName));

    // The device plugin's allocation makes /dev/kvm and /dev/net/tun; no hostPath to a device.
    assertThat(mounts).doesNotContainKeys("/dev/kvm", "/dev/net/tun");
    assertThat(volumes.values())
        .noneMatch(v -> v.getHostPath() != null && v.getHostPath().getPath().startsWith("/dev"));
    assertHostPath(volumes.get(mounts.get("/var/lib/hearth")), "/srv/hearth", "DirectoryOrCreate");
    // VmmRuntime.DEFAULT_VSOCK_DIR: the root file system is read-only, and node programs reach
    // their guests through these sockets.
    assertHostPath(
        volumes.get(mounts.get("/run/hearth/vsock")), "/run/hearth/vsock", "DirectoryOrCreate");
    assertThat(Rendered.env(chart.agentContainer()))
        .containsEntry("HEARTH_DATA_DIR", "/var/lib/hearth");
  }

  @Test
  void privilegedMountsKvmAndTunFromTheNode() {
    Rendered chart = Helm.render("--set", "agent.kvmAccess=privileged");
    PodSpec pod = chart.agent().getSpec().getTemplate().getSpec();
    Map<String, Volume> volumes =
        pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, Function.identity()));
    Map<String, String> mounts =
        chart.agentContainer().getVolumeMounts().stream()
            .collect(Collectors.toMap(VolumeMount::getMountPath, VolumeMount::getName));
    assertHostPath(volumes.get(mounts.get("/dev/kvm")), "/dev/kvm", "CharDevice");
    assertHostPath(volumes.get(mounts.get("/dev/net/tun")), "/dev/net/tun", "CharDevice");
  }

  @Test
  void runsInTheNodesNetworkAndKnowsItsNodeFromTheDownwardApi() {
    Rendered chart = Helm.render();
    PodSpec pod = chart.agent().getSpec().getTemplate().getSpec();
    assertThat(pod.getHostNetwork()).isTrue();
    assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    assertThat(Rendered.downwardApi(chart.agentContainer()))
        .containsEntry("HEARTH_NODE_NAME", "spec.nodeName")
        .containsEntry("HEARTH_NODE_ADDRESS", "status.hostIP")
        .containsEntry("HEARTH_LEASE_NAMESPACE", "metadata.namespace");
    assertThat(chart.agentContainer().getArgs()).containsExactly("agent");
    assertThat(chart.agentContainer().getImage()).isEqualTo("hearth/agent:0.1.0");
  }

  @Test
  void privilegedIsTheFallbackWithoutADevicePlugin() {
    Rendered chart = Helm.render("--set", "agent.kvmAccess=privileged");
    SecurityContext sc = chart.agentContainer().getSecurityContext();
    assertThat(sc.getPrivileged()).isTrue();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(chart.agentContainer().getResources().getLimits()).isNullOrEmpty();
    assertThat(chart.objects())
        .noneMatch(o -> o.getMetadata().getName().equals(Helm.RELEASE + "-device-plugin"));
  }

  @Test
  void byDefaultRunsUnprivilegedWithNetAdminOnlyAndHearthsDevices() {
    Container agent = Helm.render().agentContainer();
    SecurityContext sc = agent.getSecurityContext();
    assertThat(sc.getPrivileged()).isFalse();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).containsExactly("NET_ADMIN");
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(agent.getResources().getLimits())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("hearth.dev/kvm", new Quantity("1"), "hearth.dev/tun", new Quantity("1")));
    assertThat(agent.getResources().getRequests()).containsKeys("cpu", "memory");
  }

  @Test
  void hearthsDevicePluginRunsWithNoPrivilegeNoCapabilityAndNoApiCredentials() {
    Rendered chart =
        Helm.render(
            "--set-string", "agent.nodeSelector.hearth\\.dev/kvm=true",
            "--set", "agent.devicePlugin.devicesPerNode=2");
    PodSpec pod = chart.devicePlugin().getSpec().getTemplate().getSpec();
    Container plugin = chart.devicePluginContainer();
    assertThat(plugin.getArgs()).containsExactly("device-plugin");
    assertThat(plugin.getImage()).isEqualTo(chart.agentContainer().getImage());
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getHostNetwork()).isNull();
    // It must run wherever the agent may.
    assertThat(pod.getNodeSelector()).containsEntry("hearth.dev/kvm", "true");
    SecurityContext sc = plugin.getSecurityContext();
    assertThat(sc.getPrivileged()).isFalse();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(Rendered.env(plugin))
        .containsEntry("HEARTH_DEV_ROOT", "/host/dev")
        .containsEntry("HEARTH_DEVICES_PER_NODE", "2");
    Map<String, VolumeMount> mounts =
        plugin.getVolumeMounts().stream()
            .collect(Collectors.toMap(VolumeMount::getMountPath, Function.identity()));
    assertThat(mounts.get("/host/dev").getReadOnly()).isTrue();
    assertThat(mounts).containsKey("/var/lib/kubelet/device-plugins");
  }

  @Test
  void anotherDevicePluginCanServeTheResources() {
    Rendered chart =
        Helm.render(
            "--set", "agent.devicePlugin.enabled=false",
            "--set",
                "agent.devicePluginResources={devices.kubevirt.io/kvm,devices.kubevirt.io/tun}");
    assertThat(chart.objects())
        .noneMatch(o -> o.getMetadata().getName().equals(Helm.RELEASE + "-device-plugin"));
    assertThat(chart.agentContainer().getResources().getLimits())
        .containsOnlyKeys("devices.kubevirt.io/kvm", "devices.kubevirt.io/tun");
  }

  @Test
  void hasNoMemoryOrCpuLimitByDefaultSinceGuestRamIsChargedToIt() {
    Container agent = Helm.render().agentContainer();
    assertThat(agent.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(agent.getResources().getLimits()).doesNotContainKeys("cpu", "memory");
  }

  @Test
  void takesNodeSelectorAndTolerationsFromValues() {
    Rendered chart =
        Helm.render(
            "--set-string", "agent.nodeSelector.hearth\\.dev/kvm=true",
            "--set", "agent.tolerations[0].key=hearth.dev/dedicated",
            "--set", "agent.tolerations[0].operator=Exists",
            "--set", "agent.tolerations[0].effect=NoSchedule");
    PodSpec pod = chart.agent().getSpec().getTemplate().getSpec();
    assertThat(pod.getNodeSelector())
        .containsEntry("hearth.dev/kvm", "true")
        .containsEntry("kubernetes.io/arch", "amd64");
    assertThat(pod.getTolerations())
        .containsExactly(
            new Toleration("NoSchedule", "hearth.dev/dedicated", "Exists", null, null));
  }

  @Test
  void probesItsHealthEndpointsOnTheConfiguredPort() {
    Container agent = Helm.render("--set", "agent.httpPort=9999").agentContainer();
    assertThat(agent.getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(9999));
    assertThat(agent.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(agent.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(agent.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(Rendered.env(agent)).containsEntry("HEARTH_HTTP_PORT", "9999");
  }

  @Test
  void refusesANodeLossGraceTooShortForAFencedAgentToStopItsVms() {
    Helm.Result r =
        Helm.template(
            "--set",
            "operator.nodeLoss.gracePeriodSeconds=20",
            "--set",
            "agent.stopGraceSeconds=10");
    assertThat(r.status()).isNotZero();
    assertThat(r.stderr())
        .contains("operator.nodeLoss.gracePeriodSeconds (20) must be at least")
        .contains("agent.stopGraceSeconds + 15 (25)");
    assertThat(
            Helm.template(
                    "--set", "operator.nodeLoss.gracePeriodSeconds=20",
                    "--set", "agent.stopGraceSeconds=5")
                .status())
        .isZero();
  }

  @Test
  void refusesATerminationGraceTooShortForTheAgentToSuspendItsVms() {
    Helm.Result r =
        Helm.template(
            "--set",
            "agent.terminationGracePeriodSeconds=20",
            "--set",
            "agent.stopGraceSeconds=10");
    assertThat(r.status()).isNotZero();
    assertThat(r.stderr())
        .contains("agent.terminationGracePeriodSeconds (20) must be at least")
        .contains("agent.stopGraceSeconds + 15 (25)");
    assertThat(Helm.render().agent().getSpec().getTemplate().getSpec())
        .extracting(p -> p.getTerminationGracePeriodSeconds())
        .isEqualTo(60L);
  }

  private static void assertHostPath(Volume volume, String path, String type) {
    assertThat(volume).as("a volume for %s", path).isNotNull();
    assertThat(volume.getHostPath().getPath()).isEqualTo(path);
    assertThat(volume.getHostPath().getType()).isEqualTo(type);
  }
}
