package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Where an image (kernel, initrd, disk) comes from: a file under the node's images root, an http(s)
 * URL that the agent downloads, checks against its sha256 and caches, or an OCI image in a
 * registry.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "(has(self.path) ? 1 : 0) + (has(self.url) ? 1 : 0) + (has(self.oci) ? 1 : 0) == 1",
    message = "exactly one of path, url or oci must be set")
@ValidationRule(
    value = "!has(self.url) || has(self.sha256)",
    message = "a url source requires sha256")
@ValidationRule(
    value = "!has(self.sha256) || has(self.url)",
    message = "sha256 is only used with a url source")
@JsonClassDescription(
    "Where an image (kernel, initrd, disk) comes from: a file under the node's images root"
        + " (path, relative to it), or an http(s) URL (url) that the agent downloads, checks"
        + " against its sha256 and caches, or an OCI image in a registry (oci). Exactly one of"
        + " path, url and oci.")
public class ImageSource extends ApiValue {
  /** The longest image path the CRD accepts. */
  public static final int MAX_PATH_LENGTH = 1024;

  @JsonPropertyDescription(
      "Path of a file under the node's images root (the agent's images directory,"
          + " /var/lib/hearth/images by default), relative to it, e.g. linux/vmlinux. No leading"
          + " '/', no '.' or '..' segments, no empty segments, no control characters; the agent"
          + " refuses a file that resolves outside the root, symbolic links included. Exactly one"
          + " of path and url.")
  @Size(min = 1, max = MAX_PATH_LENGTH)
  @ValidationRule(
      value = "!self.startsWith('/')",
      message = "must be relative to the node's images root, without a leading '/'")
  @ValidationRule(
      value = "!self.split('/').exists(s, s == '..' || s == '.')",
      message = "must not contain '.' or '..' segments: it names a file under the images root")
  @ValidationRule(
      value = "!self.contains('//') && !self.endsWith('/')",
      message = "must not contain empty segments ('//' or a trailing '/')")
  @ValidationRule(
      value = "!self.matches('[\\x00-\\x1f\\x7f]')",
      message = "must not contain control characters")
  private String path;

  @JsonPropertyDescription(
      "http(s) URL the agent downloads once and caches, keyed by sha256. Exactly one of path and url; requires sha256.")
  @Size(min = 1, max = 2048)
  @ValidationRule(
      value = "self.matches('^[hH][tT][tT][pP][sS]?://[!\"$-.0->@-~]+([/?#][!-~]*)?$')",
      message =
          "url must be an http:// or https:// URL with a host, without spaces, control or"
              + " non-ASCII characters")
  private String url;

  @JsonPropertyDescription(
      "Lowercase hex SHA-256 of the content at url (64 characters). The download is rejected when it differs.")
  @Size(max = 64)
  @ValidationRule(
      value = "self.matches('^[0-9a-f]{64}$')",
      message = "sha256 must be 64 lowercase hexadecimal digits")
  private String sha256;

  @JsonPropertyDescription(
      "An image in an OCI registry: the whole image as a root disk, or one file inside it."
          + " Exactly one of path, url and oci.")
  private OciImageSource oci;

  public ImageSource() {}

  /** An OCI image (or, with {@code path} set on it, one file inside it). */
  public static ImageSource ofOci(OciImageSource oci) {
    ImageSource s = new ImageSource();
    s.oci = oci;
    return s;
  }

  public OciImageSource getOci() {
    return oci;
  }

  public void setOci(OciImageSource oci) {
    this.oci = oci;
  }

  /** A file under the node's images root, by its path relative to the root. */
  public static ImageSource ofPath(String path) {
    ImageSource s = new ImageSource();
    s.path = path;
    return s;
  }

  /** A URL checked against its sha256. */
  public static ImageSource ofUrl(String url, String sha256) {
    ImageSource s = new ImageSource();
    s.url = url;
    s.sha256 = sha256;
    return s;
  }

  public String getPath() {
    return path;
  }

  public void setPath(String path) {
    this.path = path;
  }

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public String getSha256() {
    return sha256;
  }

  public void setSha256(String sha256) {
    this.sha256 = sha256;
  }

  @Override
  public String toString() {
    if (oci != null) {
      return "oci:" + oci;
    }
    return path != null ? "path:" + path : "url:" + url + "@sha256:" + sha256;
  }
}
