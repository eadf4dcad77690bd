package dev.hearth.e2e.system;

import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.harness.KvmSuiteInsideL1;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * This module's {@code *KvmIT} classes, run inside the nested-KVM machine. The build runs this
 * instead of them where the host has no {@code /dev/kvm} (profile {@code nested-kvm}). Besides the
 * class path and the test guests, L1 gets the generated CRDs and the examples, which the scenarios
 * read.
 */
class NestedKvmSuiteIT {
  @TestFactory
  Stream<DynamicTest> wholeSystemKvmTestsInsideL1() throws Exception {
    Path root = ProjectRoot.find();
    return KvmSuiteInsideL1.run(
        Path.of("target", "test-classes"),
        List.of(
            Path.of(System.getProperty("hearth.guests", "../vmm/target/guests")),
            root.resolve("crds").resolve("yaml"),
            root.resolve("examples")),
        Duration.ofMinutes(12));
  }
}
