package dev.hearth.api.client;

import io.fabric8.kubernetes.api.model.Event;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Events a recorder has written, by what makes two of them the same: the object, type, reason
 * and message (as client-go's correlator keys them). A repeat becomes a count on the Event already
 * written instead of another Event, so a reconcile that runs twice on a stale cache, or a failure
 * that recurs, shows as one line "x3 over 2m" in {@code kubectl describe}. Holds the latest {@link
 * #CAPACITY} series; an older one that recurs starts a new Event.
 */
final class EventSeries {
  static final int CAPACITY = 4096;

  /** What makes two Events the same one. */
  record Key(
      String namespace,
      String uid,
      String kind,
      String name,
      String type,
      String reason,
      String message) {
    static Key of(Event e) {
      var about = e.getInvolvedObject();
      return new Key(
          e.getMetadata().getNamespace(),
          about.getUid(),
          about.getKind(),
          about.getName(),
          e.getType(),
          e.getReason(),
          e.getMessage());
    }
  }

  /**
   * One series: the name of the Event written for it (null until one is) and its count. Callers
   * hold its lock while they write, so a repeat never races the Event it repeats.
   */
  static final class Series {
    String eventName;
    int count;
  }

  private final Map<Key, Series> series =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Series> eldest) {
          return size() > CAPACITY;
        }
      };

  /** The series of {@code event}, new if none is held. */
  synchronized Series of(Event event) {
    return series.computeIfAbsent(Key.of(event), k -> new Series());
  }
}
