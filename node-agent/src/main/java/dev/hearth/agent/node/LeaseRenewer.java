package dev.hearth.agent.node;

import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's heartbeat: a {@code coordination.k8s.io/v1} Lease named {@code hearth-node-<node>}
 * (see {@link HearthApi}). {@link #renew()} runs every third of the lease duration. It renews only
 * while the agent can serve: when {@code canServe} names a problem the Lease is left to expire, so
 * the operator marks the node NotReady instead of believing a broken agent.
 */
public final class LeaseRenewer {
  private static final Logger LOG = LoggerFactory.getLogger(LeaseRenewer.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String nodeName;
  private final int durationSeconds;
  private final InstantSource clock;
  private final Supplier<Optional<String>> canServe;

  public LeaseRenewer(
      KubernetesClient client,
      String namespace,
      String nodeName,
      int durationSeconds,
      InstantSource clock,
      Supplier<Optional<String>> canServe) {
    this.client = client;
    this.namespace = namespace;
    this.nodeName = nodeName;
    this.durationSeconds = durationSeconds;
    this.clock = clock;
    this.canServe = canServe;
  }

  /** How often to call {@link #renew()}. */
  public java.time.Duration interval() {
    return java.time.Duration.ofSeconds(Math.max(1, durationSeconds / 3));
  }

  /** Renews (or creates) the Lease; returns false when it skipped or failed. */
  public boolean renew() {
    Optional<String> problem = canServe.get();
    if (problem.isPresent()) {
      LOG.warn("not renewing the node Lease: {}", problem.get());
      return false;
    }
    ZonedDateTime now = clock.instant().truncatedTo(ChronoUnit.MICROS).atZone(ZoneOffset.UTC);
    String name = HearthApi.leaseName(nodeName);
    try {
      var leases = client.resources(Lease.class).inNamespace(namespace);
      Lease current = leases.withName(name).get();
      if (current == null) {
        Lease lease = new Lease();
        lease.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        LeaseSpec spec = new LeaseSpec();
        spec.setHolderIdentity(nodeName);
        spec.setLeaseDurationSeconds(durationSeconds);
        spec.setAcquireTime(now);
        spec.setRenewTime(now);
        lease.setSpec(spec);
        leases.resource(lease).create();
      } else {
        current.getSpec().setHolderIdentity(nodeName);
        current.getSpec().setLeaseDurationSeconds(durationSeconds);
        current.getSpec().setRenewTime(now);
        leases.resource(current).update(); // resourceVersion-checked: a conflict retries next tick
      }
      return true;
    } catch (KubernetesClientException e) {
      LOG.warn("renewing Lease {}/{} failed: {}", namespace, name, e.getMessage());
      return false;
    } catch (RuntimeException e) { // a client or serialization bug must not end the heartbeat
      LOG.error("renewing Lease {}/{} failed", namespace, name, e);
      return false;
    }
  }
}
