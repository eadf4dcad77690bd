package dev.hearth.api.client;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes status by server-side apply through the status subresource, under one named field manager
 * per component ({@value #OPERATOR}, {@value #AGENT}). Each apply carries only the fields that
 * component decides; the API server keeps everyone else's, and records in {@code managedFields} who
 * owns what. A field the component applied before and leaves out now is removed (unless another
 * manager also owns it). Spec is never sent.
 *
 * <p>Applies are forced: phase and the (atomic) conditions list are written by both components in
 * turn, and the last writer owns them. A guarded apply also sends the resourceVersion it read,
 * which the server treats as a precondition: a stale copy answers 409 instead of overwriting, and
 * as forced applies never conflict on fields, a 409 always means "stale".
 */
public final class StatusApply {
  /** The operator's field manager. */
  public static final String OPERATOR = "hearth-operator";

  /** The node agent's field manager. */
  public static final String AGENT = "hearth-agent";

  private final KubernetesClient client;
  private final PatchContext apply;

  /** Applies as {@code fieldManager}. */
  public StatusApply(KubernetesClient client, String fieldManager) {
    this.client = client;
    this.apply =
        new PatchContext.Builder()
            .withPatchType(PatchType.SERVER_SIDE_APPLY)
            .withFieldManager(fieldManager)
            .withForce(true)
            .build();
  }

  /**
   * Applies the {@code fields} of {@code status} that are set (null ones are left out) to the
   * object {@code about} names. With {@code guarded}, only if the object still has {@code about}'s
   * resourceVersion. Returns the object as written.
   *
   * @throws KubernetesClientException 409 for a stale guarded copy, 404 when the object is gone
   */
  public <T extends HasMetadata> T apply(
      T about, Object status, Collection<String> fields, boolean guarded) {
    @SuppressWarnings("unchecked") // a JSON object converts to a map of strings
    Map<String, Object> all = client.getKubernetesSerialization().convertValue(status, Map.class);
    Map<String, Object> applied = new LinkedHashMap<>();
    for (String field : fields) {
      Object value = all.get(field);
      if (value != null) {
        applied.put(field, value);
      }
    }
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", about.getMetadata().getName());
    if (about.getMetadata().getNamespace() != null) {
      metadata.put("namespace", about.getMetadata().getNamespace());
    }
    if (guarded) {
      metadata.put("resourceVersion", about.getMetadata().getResourceVersion());
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("apiVersion", about.getApiVersion());
    body.put("kind", about.getKind());
    body.put("metadata", metadata);
    body.put("status", applied);
    return client
        .resource(about)
        .subresource("status")
        .patch(apply, client.getKubernetesSerialization().asJson(body));
  }

  /** Whether a write failed because the copy was stale or the object is gone. */
  public static boolean isStaleOrGone(KubernetesClientException e) {
    return e.getCode() == 409 || e.getCode() == 404;
  }
}
