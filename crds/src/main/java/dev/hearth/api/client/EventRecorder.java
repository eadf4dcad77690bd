package dev.hearth.api.client;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.HttpURLConnection;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Writes core/v1 Events about an object, which {@code kubectl describe} and {@code kubectl events}
 * show: Normal ones on the happy path, Warning ones on failures. Events about a cluster-scoped
 * object (a MicroVMNode) go to namespace {@code default}. Best effort: an Event that cannot be
 * written is reported to the {@code onFailure} callback, never thrown.
 *
 * <p>Written on the caller's thread, or, from {@link #async}, by a few sender threads behind a
 * bounded queue that drops what overflows it (as client-go's recorder does): binding 10,000 VMs at
 * once then costs no Event write on each bind's path, and a burst sheds Events instead of slowing
 * down the work they describe.
 *
 * <p>An Event that repeats one this recorder wrote (same object, type, reason and message) raises
 * that Event's count instead of adding another ({@link EventSeries}), as client-go's recorder does.
 */
public final class EventRecorder implements AutoCloseable {
  /** Longest message kept; the API server refuses longer ones. */
  static final int MAX_MESSAGE = 1024;

  private static final int MAX_NAME_PREFIX = 200;

  private final KubernetesClient client;
  private final InstantSource clock;
  private final String component;
  private final String instance;
  private final Consumer<String> onFailure;
  private final ThreadPoolExecutor senders; // null: on the caller's thread
  private final AtomicLong dropped = new AtomicLong();
  private final EventSeries repeats = new EventSeries();

  /**
   * @param component the reporting component ({@link StatusApply#OPERATOR}, {@link
   *     StatusApply#AGENT})
   * @param instance which replica or node reports (the source host), or null
   * @param onFailure gets one line when an Event cannot be written (to log it)
   */
  public EventRecorder(
      KubernetesClient client,
      InstantSource clock,
      String component,
      String instance,
      Consumer<String> onFailure) {
    this(client, clock, component, instance, onFailure, 0, 0);
  }

  /** With {@code senders} 0, Events are written on the caller's thread. */
  private EventRecorder(
      KubernetesClient client,
      InstantSource clock,
      String component,
      String instance,
      Consumer<String> onFailure,
      int senders,
      int queue) {
    this.client = client;
    this.clock = clock;
    this.component = component;
    this.instance = instance;
    this.onFailure = onFailure;
    this.senders = senders == 0 ? null : senderPool(senders, queue);
  }

  /** {@code senders} threads behind a queue of {@code queue} that drops and counts overflow. */
  private ThreadPoolExecutor senderPool(int senders, int queue) {
    return new ThreadPoolExecutor(
        senders,
        senders,
        0,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queue),
        Thread.ofPlatform().name("hearth-events-", 0).daemon().factory(),
        (task, pool) -> {
          long n = dropped.incrementAndGet();
          if (n == 1 || n % 1000 == 0) {
            onFailure.accept(n + " Events dropped so far: more came than the API server took");
          }
        });
  }

  /**
   * A recorder that writes on {@code senders} threads of its own, with up to {@code queue} Events
   * waiting; Events beyond that are dropped and counted ({@link #dropped}). {@link #close} stops
   * the threads.
   */
  public static EventRecorder async(
      KubernetesClient client,
      InstantSource clock,
      String component,
      String instance,
      Consumer<String> onFailure,
      int senders,
      int queue) {
    return new EventRecorder(client, clock, component, instance, onFailure, senders, queue);
  }

  /** Events dropped because the queue was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Stops the sender threads, if any; Events still queued are dropped. */
  @Override
  public void close() {
    if (senders != null) {
      senders.shutdownNow();
    }
  }

  /** A Normal Event: something went as it should. */
  public void normal(HasMetadata about, String reason, String message) {
    record(about, "Normal", reason, message);
  }

  /** A Warning Event: something failed or needs a user's attention. */
  public void warning(HasMetadata about, String reason, String message) {
    record(about, "Warning", reason, message);
  }

  private void record(HasMetadata about, String type, String reason, String message) {
    String objectNs = about.getMetadata().getNamespace();
    String ns = objectNs == null ? "default" : objectNs;
    String name = about.getMetadata().getName();
    String prefix = name.length() > MAX_NAME_PREFIX ? name.substring(0, MAX_NAME_PREFIX) : name;
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    String text = message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message;
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(ns)
            .withName(
                prefix
                    + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE))
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(about.getApiVersion())
                    .withKind(about.getKind())
                    .withName(name)
                    .withNamespace(objectNs)
                    .withUid(about.getMetadata().getUid())
                    .withResourceVersion(about.getMetadata().getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(text)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource(component, instance)
            .withReportingComponent(component)
            .withReportingInstance(instance)
            .build();
    if (senders == null) {
      send(ns, name, reason, event);
    } else {
      senders.execute(() -> send(ns, name, reason, event));
    }
  }

  /**
   * Creates the Event, or, when it repeats one already written, raises that one's count and last
   * time instead. A repeat whose Event is gone (Events expire after an hour) is written afresh.
   */
  private void send(String ns, String name, String reason, Event event) {
    EventSeries.Series series = repeats.of(event);
    try {
      synchronized (series) {
        if (series.eventName != null && countRepeat(ns, series, event)) {
          return;
        }
        client.v1().events().inNamespace(ns).resource(event).create();
        series.eventName = event.getMetadata().getName();
        series.count = 1;
      }
    } catch (RuntimeException e) {
      // Also a closed client (a component being stopped): an Event is never worth an error.
      onFailure.accept(
          "could not record event " + reason + " on " + ns + "/" + name + ": " + describe(e));
    }
  }

  /** The client's message with its deepest cause: its own is often only "An error has occurred." */
  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
  }

  /** False when the Event of the series no longer exists. */
  private boolean countRepeat(String ns, EventSeries.Series series, Event event) {
    Event repeat =
        new EventBuilder()
            .withCount(series.count + 1)
            .withLastTimestamp(event.getLastTimestamp())
            .build();
    try {
      client
          .v1()
          .events()
          .inNamespace(ns)
          .withName(series.eventName)
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              client.getKubernetesSerialization().asJson(repeat));
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return false;
      }
      throw e;
    }
    series.count++;
    return true;
  }
}
