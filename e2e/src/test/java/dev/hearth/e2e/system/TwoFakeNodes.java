package dev.hearth.e2e.system;

import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The host scenarios' cluster: the system ({@link HearthSystem}) with two node agents that have
 * their real networking and a fake VM runtime ({@link FakeNodes}), and an image server publishing a
 * stand-in kernel. Closing it stops all of it.
 */
final class TwoFakeNodes implements AutoCloseable {
  final HearthSystem system;
  final ImageServer images;
  final AgentNode nodeA;
  final AgentNode nodeB;
  final ImageSource kernel;

  private TwoFakeNodes(
      HearthSystem system, ImageServer images, AgentNode a, AgentNode b, ImageSource kernel) {
    this.system = system;
    this.images = images;
    this.nodeA = a;
    this.nodeB = b;
    this.kernel = kernel;
  }

  /**
   * Starts it all: nodes {@code <prefix>-node-a} and {@code -b} in subnets {@code subnetA} and
   * {@code subnetB}, with their state under {@code dir}.
   */
  static TwoFakeNodes start(Path dir, String prefix, String subnetA, String subnetB)
      throws Exception {
    FakeNodes.requireNetworkTools();
    HearthSystem system = HearthSystem.start();
    ImageServer images = null;
    try {
      images = new ImageServer();
      AgentNode a =
          FakeNodes.start(system, prefix + "-node-a", dir.resolve("a"), subnetA, Map.of());
      AgentNode b =
          FakeNodes.start(system, prefix + "-node-b", dir.resolve("b"), subnetB, Map.of());
      ImageSource kernel =
          images.publish(Files.writeString(dir.resolve("vmlinux"), "a stand-in kernel"));
      return new TwoFakeNodes(system, images, a, b, kernel);
    } catch (Exception | Error e) {
      system.close();
      if (images != null) {
        images.close();
      }
      throw e;
    }
  }

  /** The node {@code vm} runs on. */
  AgentNode nodeOf(MicroVM vm) {
    return vm.getStatus().getNodeName().equals(nodeA.name()) ? nodeA : nodeB;
  }

  @Override
  public void close() {
    try {
      system.close();
    } finally {
      images.close();
    }
  }
}
