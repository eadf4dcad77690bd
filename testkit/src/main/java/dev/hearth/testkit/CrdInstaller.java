package dev.hearth.testkit;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Installs a folder of CustomResourceDefinitions with server-side apply and waits until the API
 * server serves them (Established), so that a test can create their resources at once.
 */
final class CrdInstaller {
  private static final long CRD_ESTABLISHED_SECONDS = 60;

  private CrdInstaller() {}

  /**
   * Applies every CRD in {@code folder} as {@link ControlPlane#installCrds} says, with {@code
   * client} and {@code fieldManager}; returns their names in file order.
   */
  static List<String> install(KubernetesClient client, Path folder, String fieldManager) {
    List<Path> files;
    try (Stream<Path> list = Files.list(folder)) {
      files =
          list.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
              .sorted(Comparator.comparing(Path::toString))
              .toList();
    } catch (IOException e) {
      throw new TestClusterException("cannot list CRDs in " + folder, e);
    }
    if (files.isEmpty()) {
      throw new TestClusterException("no *.yml or *.yaml CRD files in " + folder);
    }
    List<String> names = new ArrayList<>();
    for (Path file : files) {
      CustomResourceDefinition crd;
      try {
        crd = client.apiextensions().v1().customResourceDefinitions().load(file.toFile()).item();
        client.resource(crd).fieldManager(fieldManager).forceConflicts().serverSideApply();
      } catch (RuntimeException e) {
        throw new TestClusterException("cannot apply CRD " + file + ": " + e.getMessage(), e);
      }
      names.add(crd.getMetadata().getName());
    }
    for (String name : names) {
      awaitEstablished(client, name);
    }
    return List.copyOf(names);
  }

  private static void awaitEstablished(KubernetesClient client, String name) {
    try {
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(name)
          .waitUntilCondition(
              crd ->
                  crd != null
                      && crd.getStatus() != null
                      // A CRD applied a moment ago may have a status without conditions yet.
                      && crd.getStatus().getConditions() != null
                      && crd.getStatus().getConditions().stream()
                          .anyMatch(
                              c ->
                                  "Established".equals(c.getType())
                                      && "True".equals(c.getStatus())),
              CRD_ESTABLISHED_SECONDS,
              TimeUnit.SECONDS);
    } catch (RuntimeException e) {
      throw new TestClusterException(
          "CRD " + name + " not Established within " + CRD_ESTABLISHED_SECONDS + " s", e);
    }
  }
}
