package dev.hearth.operator.support;

import dev.hearth.api.v1alpha1.MicroVM;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.ResourceEventAware;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The MicroVM controller's informer, shared with other controllers: they read its cache and follow
 * its events instead of running a list and watch of their own over every MicroVM, which would
 * double the API server's watch traffic and the operator's cached copies. JOSDK 5 has no informer
 * shared between controllers; the owner registers {@link #source} (JOSDK hands every primary event
 * to such a {@link ResourceEventAware} source, before its filters), a follower registers {@link
 * #follow}.
 */
public final class SharedMicroVMs {
  private final Duration syncTimeout;
  private final CountDownLatch synced = new CountDownLatch(1);
  private final List<Follower<?>> followers = new CopyOnWriteArrayList<>();
  private volatile IndexerResourceCache<MicroVM> cache;

  /** {@code syncTimeout}: how long a follower waits at start for the owner's cache to sync. */
  public SharedMicroVMs(Duration syncTimeout) {
    this.syncTimeout = syncTimeout;
  }

  /**
   * For the owning controller's {@code prepareEventSources}: keeps its primary cache and returns
   * the event source to register beside its others. JOSDK starts a controller's own informer, and
   * waits for it to sync, before these, so this one's start says the cache is complete.
   */
  public EventSource<MicroVM, MicroVM> source(IndexerResourceCache<MicroVM> primaryCache) {
    this.cache = primaryCache;
    return new Source();
  }

  /**
   * An event source for another controller with primaries {@code P}: a MicroVM's change triggers
   * the primaries {@code mapper} gives for its new and its old state, when {@code relevant(old,
   * new)} says the change matters to them (old is null when added, new null when deleted). Its
   * start waits until the owner's cache has synced, so that the follower's first reconciles see
   * every MicroVM.
   */
  public <P extends HasMetadata> EventSource<MicroVM, P> follow(
      String name,
      Function<MicroVM, Set<ResourceID>> mapper,
      BiPredicate<MicroVM, MicroVM> relevant) {
    Follower<P> f = new Follower<>(name, mapper, relevant);
    followers.add(f);
    return f;
  }

  /** The cached MicroVMs of {@code namespace} that pass {@code filter}: shared, do not change. */
  public Stream<MicroVM> list(String namespace, Predicate<MicroVM> filter) {
    IndexerResourceCache<MicroVM> c = cache;
    if (c == null) {
      throw new OperatorException("the MicroVM controller has not prepared its informer");
    }
    return c.list(namespace, filter);
  }

  private final class Source extends AbstractEventSource<MicroVM, MicroVM>
      implements ResourceEventAware<MicroVM> {
    Source() {
      super(MicroVM.class, "shared-microvms");
    }

    @Override
    public void start() {
      super.start();
      synced.countDown();
    }

    @Override
    public Set<MicroVM> getSecondaryResources(MicroVM primary) {
      return Set.of();
    }

    @Override
    public void onResourceCreated(MicroVM vm) {
      followers.forEach(f -> f.changed(null, vm));
    }

    @Override
    public void onResourceUpdated(MicroVM vm, MicroVM old) {
      followers.forEach(f -> f.changed(old, vm));
    }

    @Override
    public void onResourceDeleted(MicroVM vm) {
      followers.forEach(f -> f.changed(vm, null));
    }
  }

  // Not ResourceEventAware: JOSDK would hand it the follower's own primaries.
  private final class Follower<P extends HasMetadata> extends AbstractEventSource<MicroVM, P> {
    private final Function<MicroVM, Set<ResourceID>> mapper;
    private final BiPredicate<MicroVM, MicroVM> relevant;

    Follower(
        String name,
        Function<MicroVM, Set<ResourceID>> mapper,
        BiPredicate<MicroVM, MicroVM> relevant) {
      super(MicroVM.class, name);
      this.mapper = mapper;
      this.relevant = relevant;
    }

    @Override
    public void start() {
      try {
        if (!synced.await(syncTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new OperatorException(
              name() + ": the MicroVM informer has not synced in " + syncTimeout);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new OperatorException(name() + ": interrupted waiting for the MicroVM informer", e);
      }
      super.start();
    }

    @Override
    public Set<MicroVM> getSecondaryResources(P primary) {
      return Set.of();
    }

    /** {@code old} is null when added, {@code now} when deleted. */
    void changed(MicroVM old, MicroVM now) {
      // Before start, the follower's first reconciles (after the cache synced) see this change.
      if (!isRunning() || !relevant.test(old, now)) {
        return;
      }
      Set<ResourceID> primaries = new HashSet<>();
      if (old != null) {
        primaries.addAll(mapper.apply(old));
      }
      if (now != null) {
        primaries.addAll(mapper.apply(now));
      }
      primaries.forEach(id -> getEventHandler().handleEvent(new Event(id)));
    }
  }
}
