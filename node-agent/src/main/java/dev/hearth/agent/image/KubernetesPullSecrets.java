package dev.hearth.agent.image;

import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Pull Secrets read from the API server, one {@code get} per named Secret in the VM's namespace:
 * the agent never lists or watches Secrets, and asks only for those a VM bound to its node names.
 * (RBAC cannot narrow {@code get secrets} to those, so the chart grants it only when asked to; see
 * {@code agent.images.pullSecrets}.)
 */
public final class KubernetesPullSecrets implements PullSecrets {
  static final String DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson";
  static final String DOCKER_CFG = "kubernetes.io/dockercfg";

  private final KubernetesClient client;
  private final String namespace;

  public KubernetesPullSecrets(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public List<RegistryCredential> load(List<String> names) throws ImageException {
    List<RegistryCredential> out = new ArrayList<>();
    for (String name : names) {
      Secret secret;
      try {
        secret = client.secrets().inNamespace(namespace).withName(name).get();
      } catch (KubernetesClientException e) {
        if (e.getCode() == 403) {
          throw failed(
              name,
              "the node agent may not read Secrets (enable agent.images.pullSecrets in the"
                  + " chart)");
        }
        throw failed(name, "cannot be read: HTTP " + e.getCode());
      }
      if (secret == null) {
        throw failed(name, "does not exist in namespace " + namespace);
      }
      Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
      String key =
          DOCKER_CONFIG_JSON.equals(secret.getType())
              ? ".dockerconfigjson"
              : DOCKER_CFG.equals(secret.getType()) ? ".dockercfg" : null;
      if (key == null || !data.containsKey(key)) {
        throw failed(
            name, "is not of type " + DOCKER_CONFIG_JSON + " with a .dockerconfigjson key");
      }
      try {
        out.addAll(RegistryCredential.parseDockerConfig(Base64.getDecoder().decode(data.get(key))));
      } catch (IllegalArgumentException e) {
        throw failed(name, "holds no docker config: " + e.getMessage());
      }
    }
    return out;
  }

  private static ImageException failed(String name, String why) {
    return new ImageException(
        HearthApi.Reasons.IMAGE_PULL_SECRET_UNUSABLE,
        "image pull Secret " + name + " " + why,
        null);
  }
}
