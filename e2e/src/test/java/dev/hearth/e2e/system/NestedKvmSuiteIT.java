package dev.hearth.e2e.system;

import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.harness.KvmSuiteInsideL1;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.BuiltGuests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * This module's {@code *KvmIT} classes, run inside the nested-KVM machine: all of them where the
 * host has no {@code /dev/kvm} (profile {@code nested-kvm}), only the Linux-guest one where its KVM
 * cannot run Linux, none where it can (see {@link KvmSuiteInsideL1#run}). Besides the class path
 * and the tiny test guests, L1 gets the examples and the Linux test guest, which the scenarios
 * read, and the means to reach this machine's API server with the chart's RBAC ({@link
 * SharedApiServer#reachableFromL1}), and the container image of {@link ContainerEntrypointKvmIT} in
 * a registry on this machine ({@link ContainerImages#forL1}).
 */
class NestedKvmSuiteIT {
  @TestFactory
  Stream<DynamicTest> wholeSystemKvmTestsInsideL1() throws Exception {
    Path root = ProjectRoot.find();
    List<Path> adds = new ArrayList<>();
    adds.add(BuiltGuests.directory());
    adds.add(root.resolve("examples"));
    // The harness takes the Linux test guest along; the paths file the build forwards to the
    // tests (hearth.guest.properties, which TestGuest reads first) must be there as well.
    String linux = System.getProperty(TestGuest.PROPERTY);
    if (linux != null && Files.isRegularFile(Path.of(linux))) {
      adds.add(Path.of(linux));
    }
    return KvmSuiteInsideL1.run(
        Path.of("target", "test-classes"),
        adds,
        Duration.ofMinutes(12),
        job -> ContainerImages.forL1(SharedApiServer.reachableFromL1(job)));
  }
}
