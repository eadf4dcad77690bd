package dev.hearth.agent.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A user name and password for one registry, as a {@code kubernetes.io/dockerconfigjson} Secret
 * holds them. {@code toString} never shows the password.
 *
 * @param registry the registry's host[:port] as {@link ImageReference#registry()} names it
 */
public record RegistryCredential(String registry, String username, String password) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Whether this credential is for {@code ref}'s registry. */
  public boolean appliesTo(ImageReference ref) {
    return registry.equals(ref.registry());
  }

  /** The {@code Authorization} value for basic auth. */
  String basic() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "RegistryCredential[" + registry + ", " + username + ", ****]";
  }

  /**
   * The credentials in a docker config ({@code {"auths": {"<registry>": {"auth": base64(user:pass)}
   * or {"username", "password"}}}}), or in the older {@code .dockercfg} form (the same map without
   * {@code auths}).
   *
   * @throws IllegalArgumentException when it is not such JSON (the message names no secret value)
   */
  public static List<RegistryCredential> parseDockerConfig(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    JsonNode auths = root.has("auths") ? root.get("auths") : root;
    List<RegistryCredential> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : auths.properties()) {
      JsonNode entry = e.getValue();
      String user = text(entry, "username");
      String pass = text(entry, "password");
      String auth = text(entry, "auth");
      if ((user == null || pass == null) && auth != null) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException bad) {
          throw new IllegalArgumentException("the auth of " + e.getKey() + " is not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException("the auth of " + e.getKey() + " is not user:password");
        }
        user = decoded.substring(0, colon);
        pass = decoded.substring(colon + 1);
      }
      if (user != null && pass != null) {
        out.add(new RegistryCredential(registryKey(e.getKey()), user, pass));
      }
    }
    return out;
  }

  /**
   * A docker config key ({@code https://index.docker.io/v1/}, {@code http://host:5000}, {@code
   * host:5000/path}) as the registry name a reference uses.
   */
  static String registryKey(String key) {
    String k = key.strip();
    if (k.contains("://")) {
      URI u = URI.create(k);
      k = u.getRawAuthority() == null ? k : u.getRawAuthority();
    }
    int slash = k.indexOf('/');
    if (slash >= 0) {
      k = k.substring(0, slash);
    }
    k = k.toLowerCase(Locale.ROOT);
    return switch (k) {
      case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> "docker.io";
      default -> k;
    };
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || !v.isTextual() || v.asText().isEmpty() ? null : v.asText();
  }
}
