package dev.hearth.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.e2e.ProjectRoot;
import dev.hearth.testkit.TestClusterException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One {@link RealNode} for the whole test run, shared by every real-node IT class: a class declares
 * {@code @ExtendWith(SharedRealNode.class)} and takes a {@link Fixture} in its {@code @BeforeAll}.
 * The node comes up for the first class that asks (a control plane, {@code node.sh up}, the Hearth
 * images) and goes down once, when JUnit closes its root store at the end of the run. Booting a
 * node per class would cost each class a minute and tear the host's containerd and kubelet down and
 * up again in between.
 *
 * <p>Each class leaves the node as it found it: whatever it installs (the chart, MicroVMs, node
 * images) it removes in its own {@code @AfterAll}. Where the host cannot run the layer, the
 * parameter's resolution skips the class with one line (or fails it under {@code CI=true}).
 */
final class SharedRealNode implements ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(SharedRealNode.class);

  /** The shared node, its images, and the folder they live in. */
  static final class Fixture implements AutoCloseable {
    private final Path tmp;
    private final RealNode node;
    private final Map<String, String> images;

    private Fixture(Path tmp, RealNode node, Map<String, String> images) {
      this.tmp = tmp;
      this.node = node;
      this.images = images;
    }

    /** The node, joined to its control plane. */
    RealNode node() {
      return node;
    }

    /** A folder of this run's, removed after the node goes. */
    Path tmp() {
      return tmp;
    }

    /** The operator's and agent's images in the node's containerd: see {@link HearthRelease}. */
    Map<String, String> images() {
      return images;
    }

    @Override
    public void close() throws IOException {
      try {
        node.close();
      } finally {
        NodeHost.deleteTree(tmp);
        System.err.println(Timed.summary());
      }
    }

    private static Fixture start() {
      NodeHost.whyNotHere().ifPresent(NodeHost::unavailable);
      Path root = ProjectRoot.find();
      for (String jar :
          List.of("operator/target/hearth-operator.jar", "node-agent/target/hearth.jar")) {
        assertThat(root.resolve(jar))
            .as("built by ./mvnw package before this test")
            .isRegularFile();
      }
      Path tmp;
      try {
        tmp = Files.createTempDirectory("hearth-node-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      RealNode node;
      try {
        node = RealNode.start(tmp.resolve("cluster"));
      } catch (TestClusterException e) {
        deleteQuietly(tmp);
        if (String.valueOf(e.getMessage()).contains("exited with 3")) {
          NodeHost.unavailable(
              "no Kubernetes binaries for test-cluster/control-plane.sh: " + e.getMessage());
        }
        throw e;
      }
      try {
        return new Fixture(tmp, node, node.hearthImages());
      } catch (RuntimeException | AssertionError e) {
        node.close();
        deleteQuietly(tmp);
        throw e;
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      NodeHost.deleteTree(dir);
    } catch (IOException e) {
      System.err.println("hearth-node: could not remove " + dir + ": " + e);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == Fixture.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    // The root store outlives every class and closes its AutoCloseable values at the very end.
    return context
        .getRoot()
        .getStore(NS)
        .getOrComputeIfAbsent(Fixture.class, k -> Fixture.start(), Fixture.class);
  }
}
