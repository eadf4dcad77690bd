package dev.hearth.agent.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What an OCI image config ({@code application/vnd.oci.image.config.v1+json}, or Docker's) says
 * about running the image: its {@code config} object's Entrypoint, Cmd, Env, WorkingDir and User.
 * Absent or null fields are empty.
 */
public record ImageConfig(
    List<String> entrypoint,
    List<String> cmd,
    List<String> env,
    Optional<String> workingDir,
    Optional<String> user) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An image that says nothing. */
  public static final ImageConfig EMPTY =
      new ImageConfig(List.of(), List.of(), List.of(), Optional.empty(), Optional.empty());

  public ImageConfig {
    entrypoint = List.copyOf(entrypoint);
    cmd = List.copyOf(cmd);
    env = List.copyOf(env);
  }

  /** Parses an image config's JSON. */
  public static ImageConfig parse(byte[] json) throws ContainerException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new ContainerException("the image config is not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ContainerException("the image config is not a JSON object");
    }
    JsonNode c = root.path("config");
    return new ImageConfig(
        strings(c, "Entrypoint"),
        strings(c, "Cmd"),
        strings(c, "Env"),
        text(c, "WorkingDir"),
        text(c, "User"));
  }

  private static List<String> strings(JsonNode config, String field) throws ContainerException {
    JsonNode n = config.path(field);
    if (n.isMissingNode() || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw new ContainerException("the image config's " + field + " is not a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isTextual()) {
        throw new ContainerException("the image config's " + field + " holds a non-string");
      }
      out.add(e.asText());
    }
    return out;
  }

  private static Optional<String> text(JsonNode config, String field) throws ContainerException {
    JsonNode n = config.path(field);
    if (n.isMissingNode() || n.isNull()) {
      return Optional.empty();
    }
    if (!n.isTextual()) {
      throw new ContainerException("the image config's " + field + " is not a string");
    }
    return n.asText().isEmpty() ? Optional.empty() : Optional.of(n.asText());
  }
}
