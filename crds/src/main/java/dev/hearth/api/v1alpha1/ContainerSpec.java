package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/**
 * An ordinary container image run as the VM's one workload: the node boots Hearth's own kernel and
 * init, which mounts the image's layers (an ext4 root disk) as root and runs the image's
 * entrypoint. The fields are a Pod container's, with Docker's semantics.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "An ordinary container image run in the microVM, as a Pod runs a container: the node boots"
        + " Hearth's own kernel and init, which mounts the image (its layers unpacked into an ext4"
        + " root disk, /dev/vda) as root, sets the environment, working directory and user, runs"
        + " the entrypoint with its arguments, forwards their output to the console and ends the"
        + " VM with its exit code (phase Succeeded for 0, Failed otherwise; the code in"
        + " status.exit.exitCode). Defaults come from the image's config with Docker's rules:"
        + " command replaces the image's Entrypoint (and drops its Cmd), args replace its Cmd.")
public class ContainerSpec extends ApiValue {
  /** The most entries in command or in args. */
  public static final int MAX_ARGS = 256;

  /** The longest single command or args entry. */
  public static final int MAX_ARG_LENGTH = 4096;

  /** The most environment variables. */
  public static final int MAX_ENV = 128;

  /** The longest environment variable name. */
  public static final int MAX_ENV_NAME = 256;

  /** The longest environment variable value. */
  public static final int MAX_ENV_VALUE = 32768;

  /** The longest working directory. */
  public static final int MAX_WORKING_DIR = 1024;

  @JsonPropertyDescription(
      "The container image: [registry[:port]/]repository[:tag][@sha256:<digest>], pulled by the"
          + " node agent with the credentials of spec.imagePullSecrets, as a Pod's image.")
  @Required
  @Size(min = 1, max = OciImageSource.MAX_IMAGE_LENGTH)
  @ValidationRule(
      value = "self.matches('" + OciImageSource.REFERENCE + "')",
      message =
          "container.image must be an image reference: [registry[:port]/]repository[:tag]"
              + "[@sha256:<64 lowercase hex digits>], the repository in lowercase")
  private String image;

  @JsonPropertyDescription(
      "The entrypoint, replacing the image's Entrypoint; with it the image's Cmd is not used"
          + " either. Not run in a shell. At most "
          + MAX_ARGS
          + " entries of at most "
          + MAX_ARG_LENGTH
          + " characters, without NUL characters.")
  @Size(max = MAX_ARGS)
  @ValidationRule(
      value = "self.all(a, !a.contains('\\u0000'))",
      message = "container.command entries must not contain NUL characters")
  private List<@Size(max = MAX_ARG_LENGTH) String> command = new ArrayList<>();

  @JsonPropertyDescription(
      "Arguments to the entrypoint, replacing the image's Cmd. At most "
          + MAX_ARGS
          + " entries of at most "
          + MAX_ARG_LENGTH
          + " characters, without NUL characters.")
  @Size(max = MAX_ARGS)
  @ValidationRule(
      value = "self.all(a, !a.contains('\\u0000'))",
      message = "container.args entries must not contain NUL characters")
  private List<@Size(max = MAX_ARG_LENGTH) String> args = new ArrayList<>();

  @JsonPropertyDescription(
      "Environment variables added to the image's Env; a name set here replaces the image's"
          + " value. Names are unique. At most "
          + MAX_ENV
          + ".")
  @Size(max = MAX_ENV)
  @ValidationRule(
      value = "self.all(e, self.exists_one(f, f.name == e.name))",
      message = "container.env names must be unique")
  private List<ContainerEnvVar> env = new ArrayList<>();

  @JsonPropertyDescription(
      "The working directory, an absolute path, replacing the image's WorkingDir (default /);"
          + " made when missing. At most "
          + MAX_WORKING_DIR
          + " characters, no control characters.")
  @Size(min = 1, max = MAX_WORKING_DIR)
  @ValidationRule(
      value = "self.startsWith('/')",
      message = "container.workingDir must be an absolute path, starting with '/'")
  @ValidationRule(
      value = "!self.matches('[\\x00-\\x1f\\x7f]')",
      message = "container.workingDir must not contain control characters")
  private String workingDir;

  public ContainerSpec() {}

  /** A container of {@code image} with the image's own defaults. */
  public ContainerSpec(String image) {
    this.image = image;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public List<String> getCommand() {
    return command;
  }

  public void setCommand(List<String> command) {
    this.command = command;
  }

  public List<String> getArgs() {
    return args;
  }

  public void setArgs(List<String> args) {
    this.args = args;
  }

  public List<ContainerEnvVar> getEnv() {
    return env;
  }

  public void setEnv(List<ContainerEnvVar> env) {
    this.env = env;
  }

  public String getWorkingDir() {
    return workingDir;
  }

  public void setWorkingDir(String workingDir) {
    this.workingDir = workingDir;
  }
}
