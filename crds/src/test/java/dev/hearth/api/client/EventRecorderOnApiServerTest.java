package dev.hearth.api.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.testkit.ControlPlane;
import dev.hearth.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * An asynchronous recorder writes its Events off the caller's thread and sheds a burst; a repeated
 * Event is counted on the one written before.
 */
class EventRecorderOnApiServerTest {
  private final ControlPlane plane = ControlPlane.shared();

  /** What the Events are about. */
  private static ConfigMap configMap(KubernetesClient client, String ns) {
    return client
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("x")
                .withNamespace(ns)
                .endMetadata()
                .build())
        .create();
  }

  @Test
  void anAsyncRecorderWritesEventsAndDropsWhatOverflowsItsQueue() throws Exception {
    KubernetesClient client = plane.client();
    String ns = plane.createNamespace("events");
    ConfigMap about = configMap(client, ns);
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

  @Test
  void aRepeatRaisesTheCountOfTheEventItRepeats() {
    KubernetesClient client = plane.client();
    String ns = plane.createNamespace("events");
    ConfigMap about = configMap(client, ns);
    List<String> failures = new CopyOnWriteArrayList<>();
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    try (EventRecorder events = new EventRecorder(client, clock, "test", null, failures::add)) {
      events.warning(about, "Failed", "disk full");
      clock.advance(Duration.ofSeconds(30));
      events.warning(about, "Failed", "disk full");
      events.warning(about, "Failed", "disk full");
      events.warning(about, "Failed", "disk on fire");
      events.normal(about, "Failed", "disk full");

      List<Event> written = events(client, ns, "Failed");
      assertThat(written).hasSize(3);
      Event repeated =
          written.stream()
              .filter(e -> "Warning".equals(e.getType()) && "disk full".equals(e.getMessage()))
              .findFirst()
              .orElseThrow();
      assertThat(repeated.getCount()).isEqualTo(3);
      assertThat(repeated.getFirstTimestamp()).isEqualTo("2026-01-01T00:00:00Z");
      assertThat(repeated.getLastTimestamp()).isEqualTo("2026-01-01T00:00:30Z");

      // Its Event gone (expired), a repeat writes a new one.
      client.v1().events().inNamespace(ns).withName(repeated.getMetadata().getName()).delete();
      events.warning(about, "Failed", "disk full");
      assertThat(events(client, ns, "Failed"))
          .filteredOn(e -> "disk full".equals(e.getMessage()) && "Warning".equals(e.getType()))
          .singleElement()
          .satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
      assertThat(failures).isEmpty();
    } finally {
      client.namespaces().withName(ns).delete();
    }
  }

  private static List<Event> events(KubernetesClient client, String ns, String reason) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  private static long count(KubernetesClient client, String ns) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> "Burst".equals(e.getReason()))
        .count();
  }
}
