package dev.hearth.agent.image;

import dev.hearth.api.v1alpha1.HearthApi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Registry credentials from a local docker config file ({@code ~/.docker/config.json}, or the
 * {@code auth.json} of podman and skopeo), for {@code hearth run}: there is no namespace to read
 * Secrets from, so the file's credentials serve every pull whatever Secrets the manifest names.
 */
public final class AuthFilePullSecrets implements PullSecrets {
  private final Optional<Path> file;

  /** Credentials from {@code file}; none when it is empty. */
  public AuthFilePullSecrets(Optional<Path> file) {
    this.file = file;
  }

  @Override
  public List<RegistryCredential> load(List<String> names) throws ImageException {
    if (file.isEmpty()) {
      return List.of();
    }
    try {
      return RegistryCredential.parseDockerConfig(Files.readAllBytes(file.get()));
    } catch (IOException e) {
      throw new ImageException(
          HearthApi.Reasons.IMAGE_PULL_SECRET_UNUSABLE,
          "cannot read registry auth file " + file.get() + ": " + e,
          e);
    } catch (IllegalArgumentException e) {
      throw new ImageException(
          HearthApi.Reasons.IMAGE_PULL_SECRET_UNUSABLE,
          "registry auth file " + file.get() + " is no docker config: " + e.getMessage(),
          null);
    }
  }
}
