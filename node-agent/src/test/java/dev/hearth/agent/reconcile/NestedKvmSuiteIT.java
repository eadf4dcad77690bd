package dev.hearth.agent.reconcile;

import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.vmm.harness.KvmSuiteInsideL1;
import dev.hearth.vmm.testing.BuiltGuests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * This module's {@code *KvmIT} classes, run inside the nested-KVM machine, against this machine's
 * API server over L1's network ({@link SharedApiServer#reachableFromL1}). The build runs this
 * instead of them where the host has no {@code /dev/kvm} (profile {@code nested-kvm}).
 */
class NestedKvmSuiteIT {
  @TestFactory
  Stream<DynamicTest> agentKvmTestsInsideL1() throws Exception {
    return KvmSuiteInsideL1.run(
        Path.of("target", "test-classes"),
        // ExamplesKvmIT boots the examples with hearth run.
        List.of(
            BuiltGuests.directory(), Path.of(System.getProperty("hearth.examples", "../examples"))),
        Duration.ofMinutes(15),
        SharedApiServer::reachableFromL1);
  }
}
