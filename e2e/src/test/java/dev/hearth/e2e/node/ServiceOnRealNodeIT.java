package dev.hearth.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.e2e.Command;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A MicroVMSet behind a ClusterIP Service on the real node, as a platform team runs it: the chart
 * installed with helm, two replicas of the {@code httpd} test guest (it serves TCP on this host's
 * KVM, where Linux cannot run) with a TCP readiness probe and an ingress rule for the pod network,
 * and a pod that fetches {@code http://<clusterIP>/} through kube-proxy and gets a VM's answer,
 * naming the VM. When one VM stops being Ready (paused through its own {@code spec.runState}), its
 * address leaves the EndpointSlice and the pod's requests all reach the other; resumed, it is back.
 * Isolation holds beside it: a VM whose policy does not open the pod network does not answer the
 * same pod.
 *
 * <p>Needs what {@link ChartOnRealNodeIT} needs; the node is {@link SharedRealNode}'s. Run only
 * under {@code flock /tmp/hearth-realnode.lock}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(SharedRealNode.class)
class ServiceOnRealNodeIT {
  private static final String NS = "default";
  private static final Pattern ANSWER = Pattern.compile("Hello from Hearth VM (\\S+)\n");

  private RealNode node;
  private Path tmp;
  private HearthRelease release;
  private final NodeGuests guests = new NodeGuests();
  private String clusterIp;

  @BeforeAll
  void start(SharedRealNode.Fixture fixture) throws IOException {
    node = fixture.node();
    tmp = Files.createTempDirectory(fixture.tmp(), "service-");
    guests.copy("httpd.elf");
    release = new HearthRelease(node, fixture.images());
    // Three 1-vCPU VMs on a 2-core node with 1 core reserved: the chart's default overcommit (4
    // guest vCPUs per host vCPU) is what lets them all run.
    Timed.run("helm install to Ready", () -> release.install());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                node.plane().client().resources(MicroVMNode.class).withName(node.name()).get()
                    != null);
    String agentImage = fixture.images().get("HEARTH_AGENT_IMAGE");
    apply("service.yaml", manifests(agentImage));
  }

  @AfterAll
  void stop() throws IOException {
    try {
      if (release != null) {
        node.kubectl("delete", "-f", tmp.resolve("service.yaml").toString(), "--timeout=90s");
        release.removeWithCrds();
      }
    } finally {
      guests.restore();
    }
  }

  @Test
  @Order(1)
  void aPodReachesBothReadyVmsThroughTheClusterIp() {
    Timed.run(
        "set Ready behind the Service",
        () ->
            await()
                .atMost(Duration.ofSeconds(120))
                .untilAsserted(
                    () -> assertThat(endpointAddresses()).hasSize(2).isEqualTo(readyVmIps())));
    node.kubectl("wait", "--for=condition=Ready", "pod/client", "--timeout=120s")
        .orFail("the client pod Ready");
    clusterIp =
        node.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
            .orFail("the Service's cluster IP")
            .stdout()
            .strip();
    // kube-proxy picks an endpoint per connection: both VMs answer, each naming itself.
    Set<String> answered = new HashSet<>();
    Timed.run(
        "both VMs answer through kube-proxy",
        () ->
            await()
                .atMost(Duration.ofSeconds(90))
                .untilAsserted(
                    () -> {
                      answered.add(fetch(clusterIp, 80).orElse("none"));
                      assertThat(answered).containsAll(members());
                    }));
    System.err.printf("hearth-node: %s:80 answered by %s%n", clusterIp, answered);
  }

  /**
   * The chart's agent runs its VMs in a VMM process of its own (a child JVM), not in its own JVM:
   * the host's process table shows the child under the agent, holding the VMs' vCPU threads.
   */
  @Test
  @Order(2)
  void theVmsRunInAVmmProcessUnderTheAgent() throws IOException {
    List<ProcessHandle> vmmProcesses =
        ProcessHandle.allProcesses()
            .filter(p -> cmdline(p).contains("dev.hearth.agent.vmmhost.VmmHostMain"))
            .toList();
    assertThat(vmmProcesses).as("VMM processes on this host").hasSize(1);
    ProcessHandle vmm = vmmProcesses.getFirst();
    ProcessHandle agent = vmm.parent().orElseThrow();
    assertThat(cmdline(agent)).as("its parent").contains("hearth.jar").contains("agent");
    assertThat(vcpuThreads(vmm)).as("vCPU threads of the VMM process").isGreaterThanOrEqualTo(2);
    assertThat(vcpuThreads(agent)).as("vCPU threads of the agent itself").isZero();
  }

  private static String cmdline(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"))
          .replace('\0', ' ');
    } catch (IOException | java.io.UncheckedIOException gone) {
      return "";
    }
  }

  /** Threads whose name (the kernel's 15 characters) is a VMM vCPU's: {@code vcpu-<vm>-<n>}. */
  private static long vcpuThreads(ProcessHandle p) throws IOException {
    try (var tasks = Files.list(Path.of("/proc", Long.toString(p.pid()), "task"))) {
      return tasks
          .filter(
              t -> {
                try {
                  return Files.readString(t.resolve("comm")).startsWith("vcpu-");
                } catch (IOException gone) {
                  return false;
                }
              })
          .count();
    }
  }

  /**
   * The pod reaches the set's VMs because their ingress opens the pod network for port 8080, not
   * because everything is open: the same guest in a VM with the default policy does not answer it.
   */
  @Test
  @Order(3)
  void aVmWhosePolicyDoesNotOpenThePodNetworkStaysClosedToThePod() {
    String openIp = vm(members().getFirst()).getStatus().getNetwork().getFirst().getIp();
    assertThat(fetch(openIp, 8080)).as("the set's VM at %s:8080", openIp).isPresent();
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> vm("closed").getStatus() != null && isReady(vm("closed")));
    String closedIp = vm("closed").getStatus().getNetwork().getFirst().getIp();
    Command.Result r = exec("timeout 5 bash -c 'exec 3<>/dev/tcp/" + closedIp + "/8080'");
    assertThat(r.status())
        .as("connecting to the closed VM %s:8080 (124: timed out): %s", closedIp, r.stderr())
        .isEqualTo(124);
  }

  @Test
  @Order(4)
  void aVmThatStopsBeingReadyLeavesTheServiceAndComesBack() {
    List<String> members = members();
    String paused = members.getFirst();
    String other = members.get(1);
    String otherIp = vm(other).getStatus().getNetwork().getFirst().getIp();
    node.setRunState(paused, RunState.Paused);
    Timed.run(
        "a paused VM leaves the EndpointSlice",
        () ->
            await()
                .atMost(Duration.ofSeconds(60))
                .untilAsserted(
                    () -> {
                      assertThat(isReady(vm(paused))).as("%s Ready", paused).isFalse();
                      assertThat(endpointAddresses()).containsExactly(otherIp);
                    }));
    // Once kube-proxy has the change, every request reaches the other VM.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              for (int i = 0; i < 6; i++) {
                assertThat(fetch(clusterIp, 80)).as("request %d", i).contains(other);
              }
            });
    node.setRunState(paused, RunState.Running);
    Set<String> answered = new HashSet<>();
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () -> {
              answered.add(fetch(clusterIp, 80).orElse("none"));
              assertThat(answered).contains(paused);
            });
  }

  /** What the pod gets from {@code http://ip:port/}: the name of the VM that answered. */
  private Optional<String> fetch(String ip, int port) {
    Command.Result r =
        exec(
            "timeout 5 bash -c 'exec 3<>/dev/tcp/"
                + ip
                + "/"
                + port
                + " && printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'");
    if (r.status() != 0) {
      return Optional.empty();
    }
    assertThat(r.stdout()).startsWith("HTTP/1.0 200 OK\r\n");
    Matcher m = ANSWER.matcher(r.stdout());
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  private Command.Result exec(String script) {
    return node.kubectl("exec", "client", "--", "bash", "-c", script);
  }

  private List<String> members() {
    List<String> names = new ArrayList<>();
    for (MicroVM vm :
        node.plane()
            .client()
            .resources(MicroVM.class)
            .inNamespace(NS)
            .withLabel("app", "web")
            .list()
            .getItems()) {
      names.add(vm.getMetadata().getName());
    }
    names.sort(null);
    assertThat(names).hasSize(2);
    return names;
  }

  private MicroVM vm(String name) {
    return node.plane().client().resources(MicroVM.class).inNamespace(NS).withName(name).get();
  }

  private static boolean isReady(MicroVM vm) {
    return vm.getStatus() != null
        && vm.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private Set<String> readyVmIps() {
    Set<String> ips = new HashSet<>();
    for (String name : members()) {
      MicroVM vm = vm(name);
      if (isReady(vm) && !vm.getStatus().getNetwork().isEmpty()) {
        ips.add(vm.getStatus().getNetwork().getFirst().getIp());
      }
    }
    return ips;
  }

  /** The addresses of the ready endpoints of the Service's Hearth EndpointSlice. */
  private Set<String> endpointAddresses() {
    EndpointSlice slice =
        node.plane()
            .client()
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(NS)
            .withName("web-hearth")
            .get();
    Set<String> ips = new HashSet<>();
    if (slice != null && slice.getEndpoints() != null) {
      for (Endpoint e : slice.getEndpoints()) {
        if (e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady())) {
          ips.addAll(e.getAddresses());
        }
      }
    }
    return ips;
  }

  private void apply(String file, String manifest) throws IOException {
    Path path = Files.writeString(tmp.resolve(file), manifest);
    node.kubectl("apply", "-f", path.toString()).orFail("kubectl apply -f " + file);
  }

  /**
   * The set (httpd on 8080, ready once it accepts), its Service, a VM with the default policy, and
   * the client pod (the agent's image, which the node has: bash reaches TCP through /dev/tcp).
   */
  private static String manifests(String clientImage) {
    String vmSpec =
        """
          vcpus: 1
          memoryMiB: 16
          kernel:
            source:
              path: httpd.elf
            cmdline: "console=ttyS0 httpd.port=8080"
          network:
            - name: eth0
          restartPolicy: Always
        """;
    return """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVMSet
        metadata:
          name: web
          namespace: %1$s
        spec:
          replicas: 2
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
        %2$s
              networkPolicy:
                ingress:
                  - cidr: 10.244.0.0/16
                    ports:
                      - port: 8080
              readinessProbe:
                tcpSocket:
                  port: 8080
                periodSeconds: 1
                failureThreshold: 2
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: %1$s
        spec:
          selector:
            app: web
          ports:
            - name: http
              port: 80
              targetPort: 8080
        ---
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata:
          name: closed
          namespace: %1$s
          labels:
            app: closed
        spec:
        %3$s
          readinessProbe:
            tcpSocket:
              port: 8080
            periodSeconds: 1
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: client
          namespace: %1$s
        spec:
          automountServiceAccountToken: false
          terminationGracePeriodSeconds: 0
          containers:
            - name: client
              image: %4$s
              imagePullPolicy: Never
              command: ["sleep", "infinity"]
        """
        .formatted(NS, vmSpec.indent(4).stripTrailing(), vmSpec.stripTrailing(), clientImage);
  }
}
