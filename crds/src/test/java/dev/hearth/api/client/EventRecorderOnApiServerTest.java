package dev.hearth.api.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** An asynchronous recorder writes its Events off the caller's thread and sheds a burst. */
class EventRecorderOnApiServerTest {

  @Test
  void anAsyncRecorderWritesEventsAndDropsWhatOverflowsItsQueue() throws Exception {
    ControlPlane plane = ControlPlane.shared();
    KubernetesClient client = plane.client();
    String ns = plane.createNamespace("events");
    ConfigMap about =
        client
            .resource(
                new ConfigMapBuilder()
                    .withNewMetadata()
                    .withName("x")
                    .withNamespace(ns)
                    .endMetadata()
                    .build())
            .create();
    List<String> failures = new CopyOnWriteArrayList<>();
    int burst = 50;
    try (EventRecorder events =
        EventRecorder.async(client, InstantSource.system(), "test", null, failures::add, 1, 1)) {
      for (int i = 0; i < burst; i++) {
        events.normal(about, "Burst", "event " + i);
      }
      // One sender and one queued: a burst this size cannot all wait, and the caller never did.
      assertThat(events.dropped()).isPositive().isLessThan(burst);
      long written = burst - events.dropped();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (count(client, ns) < written && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(count(client, ns)).isEqualTo(written);
      assertThat(failures).first().asString().contains("Events dropped so far");
    } finally {
      client.namespaces().withName(ns).delete();
    }
  }

  private static long count(KubernetesClient client, String ns) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> "Burst".equals(e.getReason()))
        .count();
  }
}
