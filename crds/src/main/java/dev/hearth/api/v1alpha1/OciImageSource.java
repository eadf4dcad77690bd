package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * An image in an OCI registry, pulled by the node agent: as a whole, a root disk (its layers
 * unpacked into ext4); with {@code path}, one file inside it (a kernel, an initrd or a disk image,
 * as KubeVirt's containerDisk ships them).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "An image in an OCI registry, pulled by the node agent with the credentials of"
        + " spec.imagePullSecrets. Without path, the image's layers are unpacked into an ext4 root"
        + " disk (whiteouts, owners, modes, symbolic and hard links kept); with path, one regular"
        + " file inside the image is used (a kernel, an initrd or a disk image). Every blob is"
        + " checked against its digest; results are cached on the node by manifest digest.")
public class OciImageSource extends ApiValue {
  /** The longest image reference accepted. */
  public static final int MAX_IMAGE_LENGTH = 512;

  // The reference grammar of the distribution project, simplified: registry host[:port]/,
  // lowercase repository components, a tag, a sha256 digest. No backslashes (see CelText).
  static final String REFERENCE =
      "^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]+)?/)?"
          + "[a-z0-9]+(([.]|__?|-+)[a-z0-9]+)*(/[a-z0-9]+(([.]|__?|-+)[a-z0-9]+)*)*"
          + "(:[A-Za-z0-9_][-A-Za-z0-9_.]{0,127})?(@sha256:[0-9a-f]{64})?$";

  @JsonPropertyDescription(
      "The image: [registry[:port]/]repository[:tag][@sha256:<digest>], e.g."
          + " registry.example.org/team/app:1.2 or ...@sha256:<64 hex digits>. Without a"
          + " registry, Docker Hub; without tag or digest, latest. A tag is resolved on every"
          + " start, so a moved tag gives the new image; a digest pins it.")
  @Required
  @Size(min = 1, max = MAX_IMAGE_LENGTH)
  @ValidationRule(
      value = "self.matches('" + REFERENCE + "')",
      message =
          "image must be an image reference: [registry[:port]/]repository[:tag][@sha256:<64"
              + " lowercase hex digits>], the repository in lowercase")
  private String image;

  @JsonPropertyDescription(
      "A regular file inside the image, by its path from the image's root (e.g. boot/vmlinux"
          + " or disk/rootfs.img); required for a kernel or an initrd. Without it the image is"
          + " unpacked into a root disk. No leading '/', no '.', '..' or empty segments, no"
          + " control characters; a symbolic link is not followed.")
  @Size(min = 1, max = ImageSource.MAX_PATH_LENGTH)
  @ValidationRule(
      value = "!self.startsWith('/')",
      message = "oci.path must be relative to the image's root, without a leading '/'")
  @ValidationRule(
      value = "!self.split('/').exists(s, s == '..' || s == '.')",
      message = "oci.path must not contain '.' or '..' segments")
  @ValidationRule(
      value = "!self.contains('//') && !self.endsWith('/')",
      message = "oci.path must not contain empty segments ('//' or a trailing '/')")
  @ValidationRule(
      value = "!self.matches('[\\x00-\\x1f\\x7f]')",
      message = "oci.path must not contain control characters")
  private String path;

  public OciImageSource() {}

  /** The whole image {@code image}. */
  public OciImageSource(String image) {
    this.image = image;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public String getPath() {
    return path;
  }

  public void setPath(String path) {
    this.path = path;
  }

  @Override
  public String toString() {
    return image + (path == null ? "" : "!" + path);
  }
}
