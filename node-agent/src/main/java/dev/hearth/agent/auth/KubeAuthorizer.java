package dev.hearth.agent.auth;

import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.NonResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Authenticates a request's bearer token with a TokenReview and authorizes the user it names with a
 * SubjectAccessReview, both through {@code client} (the agent's own credentials). Console access is
 * the resource {@code microvms}, subresource {@value #CONSOLE}, in group {@code hearth.dev}, for
 * one VM by namespace and name: verb {@code get} to read, {@code create} to type, as {@code
 * pods/exec} takes {@code create}. The subresource need not exist on the CRD: RBAC evaluates a rule
 * on it all the same. Nothing is cached: every connection and scrape is decided afresh.
 */
public final class KubeAuthorizer {
  /** The RBAC subresource that grants a VM's console. */
  public static final String CONSOLE = "console";

  private static final int MAX_TOKEN_CHARS = 16 * 1024;

  private final KubernetesClient client;

  public KubeAuthorizer(KubernetesClient client) {
    this.client = client;
  }

  /** May the bearer of {@code authorization} (an HTTP header, or null) {@code verb} the console? */
  public Access console(String authorization, String namespace, String name, String verb) {
    return decide(
        authorization,
        sar ->
            sar.withResourceAttributes(
                new ResourceAttributesBuilder()
                    .withGroup(HearthApi.GROUP)
                    .withResource("microvms")
                    .withSubresource(CONSOLE)
                    .withNamespace(namespace)
                    .withName(name)
                    .withVerb(verb)
                    .build()),
        verb + " microvms/" + CONSOLE + " " + namespace + "/" + name);
  }

  /** May the bearer {@code verb} the non-resource URL {@code path} ({@code /metrics})? */
  public Access nonResource(String authorization, String path, String verb) {
    return decide(
        authorization,
        sar ->
            sar.withNonResourceAttributes(
                new NonResourceAttributesBuilder().withPath(path).withVerb(verb).build()),
        verb + " " + path);
  }

  private Access decide(
      String authorization, Consumer<SubjectAccessReviewBuilder.SpecNested<?>> what, String ask) {
    Optional<String> token = bearer(authorization);
    if (token.isEmpty()) {
      return new Access.Unauthenticated("no bearer token (Authorization: Bearer <token>)");
    }
    UserInfo user;
    try {
      TokenReview review =
          client
              .authentication()
              .v1()
              .tokenReviews()
              .create(
                  new TokenReviewBuilder().withNewSpec().withToken(token.get()).endSpec().build());
      if (review.getStatus() == null
          || !Boolean.TRUE.equals(review.getStatus().getAuthenticated())
          || review.getStatus().getUser() == null) {
        return new Access.Unauthenticated("the API server does not accept the token");
      }
      user = review.getStatus().getUser();
    } catch (KubernetesClientException e) {
      return new Access.Unavailable("TokenReview failed: " + e.getMessage());
    }
    SubjectAccessReview decided;
    try {
      SubjectAccessReviewBuilder.SpecNested<SubjectAccessReviewBuilder> spec =
          new SubjectAccessReviewBuilder()
              .withNewSpec()
              .withUser(user.getUsername())
              .withUid(user.getUid())
              .withGroups(user.getGroups())
              .withExtra(user.getExtra());
      what.accept(spec);
      decided = client.authorization().v1().subjectAccessReview().create(spec.endSpec().build());
    } catch (KubernetesClientException e) {
      return new Access.Unavailable("SubjectAccessReview failed: " + e.getMessage());
    }
    if (decided.getStatus() != null && Boolean.TRUE.equals(decided.getStatus().getAllowed())) {
      return new Access.Allowed(user.getUsername());
    }
    return new Access.Forbidden(
        user.getUsername(), "user " + user.getUsername() + " may not " + ask);
  }

  /** The token of an {@code Authorization: Bearer <token>} header, bounded and printable. */
  static Optional<String> bearer(String authorization) {
    if (authorization == null) {
      return Optional.empty();
    }
    String h = authorization.strip();
    if (h.length() < 7 || !h.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
      return Optional.empty();
    }
    String token = h.substring(7).strip();
    if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS || !token.matches("[\\x21-\\x7e]+")) {
      return Optional.empty();
    }
    return Optional.of(token);
  }
}
