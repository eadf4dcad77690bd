package dev.hearth.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.testing.ConsoleTenants;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.Config;
import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code hearth console} end to end on the real API server: it finds the VM's agent through the
 * VM's status.console with the user's kubeconfig, and the agent lets the user in as RBAC says.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleCommandTest {
  private ConsoleTenants t;
  @TempDir Path dir;

  @BeforeAll
  void start() throws Exception {
    t = new ConsoleTenants(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    byte[] boot = "Welcome\nlogin: ".getBytes(StandardCharsets.UTF_8);
    t.buffer.write(boot, 0, boot.length);
    vmWithConsole("vm");
    vmWithConsole("other");
  }

  private void vmWithConsole(String name) {
    MicroVM vm = new MicroVM();
    vm.setMetadata(new ObjectMetaBuilder().withNamespace(t.nsA).withName(name).build());
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    vm.setSpec(spec);
    MicroVM created = SharedApiServer.client().resource(vm).create();
    MicroVMStatus status = new MicroVMStatus();
    status.setPhase(MicroVMPhase.Running);
    status.setConsole(
        new ConsoleEndpoint("https://127.0.0.1:" + t.server.port(), t.certificate.sha256()));
    created.setStatus(status);
    SharedApiServer.client().resource(created).updateStatus();
  }

  @AfterAll
  void stop() {
    t.close();
  }

  private record Run(int status, String out, String err) {}

  private Run hearth(String token, java.io.InputStream in, String... args) throws Exception {
    return hearth(token, in, new ByteArrayOutputStream(), args);
  }

  private Run hearth(
      String token, java.io.InputStream in, ByteArrayOutputStream out, String... args)
      throws Exception {
    Path kubeconfig = kubeconfig(token);
    StringWriter err = new StringWriter();
    CommandLine cmd = HearthCommand.commandLine();
    cmd.setErr(new PrintWriter(err, true));
    ConsoleCommand console = cmd.getSubcommands().get("console").getCommand();
    console.in = in;
    console.out = out;
    String[] all = new String[args.length + 3];
    all[0] = "console";
    all[1] = "--kubeconfig";
    all[2] = kubeconfig.toString();
    System.arraycopy(args, 0, all, 3, args.length);
    int status = cmd.execute(all);
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  @Test
  void aTenantAttachesTypesAndDetachesWithCtrlBracket() throws Exception {
    PipedOutputStream keyboard = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(keyboard);
    CompletableFuture<Run> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return hearth(t.tokenA, in, "vm", "-n", t.nsA);
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            });
    keyboard.write("root\n".getBytes(StandardCharsets.UTF_8));
    keyboard.flush();
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    await().atMost(20, TimeUnit.SECONDS).until(() -> t.guestRead(read).equals("root\n"));
    keyboard.write(new byte[] {0x1d, 'x'}); // Ctrl-]: what follows it is not sent
    keyboard.flush();
    Run r = run.get(20, TimeUnit.SECONDS);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("Welcome\nlogin: ");
    assertThat(t.guestRead(read)).isEqualTo("root\n");
  }

  @Test
  void anotherNamespacesTenantIsRefusedWithOneLine() throws Exception {
    // Tenant B may not even read A's MicroVM through the API server; with a VM name it could
    // guess and a stolen endpoint, the agent refuses it too (AgentHttpServerTest).
    Run r = hearth(t.tokenB, java.io.InputStream.nullInputStream(), "vm", "-n", t.nsA);
    assertThat(r.status()).isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(r.err()).startsWith("hearth: cannot read MicroVM " + t.nsA + "/vm");
  }

  @Test
  void readOnlyFollowsTheOutputUntilTheVmIsRemoved() throws Exception {
    var other = t.consoles.open(t.nsA, "other");
    other.write("booted\n".getBytes(StandardCharsets.UTF_8), 0, 7);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CompletableFuture<Run> follow =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return hearth(
                    t.tokenA,
                    java.io.InputStream.nullInputStream(),
                    out,
                    "other",
                    "-n",
                    t.nsA,
                    "--read-only");
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            });
    await()
        .atMost(20, TimeUnit.SECONDS)
        .until(() -> out.toString(StandardCharsets.UTF_8).equals("booted\n"));
    other.write("more\n".getBytes(StandardCharsets.UTF_8), 0, 5);
    await()
        .atMost(20, TimeUnit.SECONDS)
        .until(() -> out.toString(StandardCharsets.UTF_8).equals("booted\nmore\n"));
    t.consoles.remove(t.nsA, "other");
    assertThat(follow.get(20, TimeUnit.SECONDS).status()).isZero();
  }

  @Test
  void aVmWithoutAConsoleSaysWhy() throws Exception {
    Run r = hearth(t.tokenA, java.io.InputStream.nullInputStream(), "absent", "-n", t.nsA);
    assertThat(r.status()).isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(r.err()).isEqualTo("hearth: no MicroVM " + t.nsA + "/absent\n");
  }

  /** A kubeconfig for the test API server that authenticates with {@code token} alone. */
  private Path kubeconfig(String token) throws Exception {
    Config admin = SharedApiServer.client().getConfiguration();
    String ca =
        admin.getCaCertData() != null
            ? "certificate-authority-data: " + admin.getCaCertData()
            : "certificate-authority: " + admin.getCaCertFile();
    Path file = Files.createTempFile(dir, "kubeconfig", ".yaml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: test",
            "  cluster:",
            "    server: " + admin.getMasterUrl(),
            "    " + ca,
            "users:",
            "- name: tenant",
            "  user:",
            "    token: " + token,
            "contexts:",
            "- name: test",
            "  context:",
            "    cluster: test",
            "    user: tenant",
            "current-context: test",
            ""));
    return file;
  }
}
