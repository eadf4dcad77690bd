package dev.hearth.e2e.node;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.nio.file.Files;

/** The MicroVMs of the real-node layer that are not examples, and how to show one in the log. */
final class Vms {
  private Vms() {}

  /** A MicroVM of this test: the idle guest, on the agent's network, rebooted whenever it ends. */
  static String idleVm() {
    String helloPath = helloKernelPath();
    return """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata:
          name: idle
          namespace: default
        spec:
          vcpus: 1
          memoryMiB: 16
          kernel:
            source:
              path: %s
            cmdline: "console=ttyS0"
          network:
            - name: eth0
          restartPolicy: Always
        """
        .formatted(helloPath.replace("hello.elf", "idle.elf"));
  }

  /** The kernel path examples/hello.yaml gives, as written. */
  static String helloKernelPath() {
    try {
      return Files.readAllLines(ProjectRoot.find().resolve("examples/hello.yaml")).stream()
          .map(String::strip)
          .filter(l -> l.startsWith("path:"))
          .map(l -> l.substring("path:".length()).strip())
          .findFirst()
          .orElseThrow();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Name, phase, node and conditions, for the build log. */
  static String describe(MicroVM vm) {
    return vm.getMetadata().getName()
        + " "
        + vm.getStatus().getPhase()
        + " on "
        + vm.getStatus().getNodeName()
        + ", conditions "
        + vm.getStatus().getConditions().stream()
            .map(
                c ->
                    c.getType()
                        + "="
                        + c.getStatus()
                        + " ("
                        + c.getReason()
                        + ": "
                        + c.getMessage()
                        + ")")
            .toList();
  }
}
