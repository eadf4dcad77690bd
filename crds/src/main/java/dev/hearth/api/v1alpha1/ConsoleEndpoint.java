package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;

/**
 * Where the VM's serial console is served, and how a client knows it reached the right server: the
 * node agent's HTTPS address and the SHA-256 of its self-signed certificate. Only the agent of the
 * VM's node writes it (status), so a client that trusts the API server trusts this.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Where the VM's serial console is served (hearth console): the node agent's HTTPS address and"
        + " the SHA-256 of its certificate, which clients pin.")
public class ConsoleEndpoint extends ApiValue {

  @JsonPropertyDescription(
      "The node agent's base URL, https://<node address>:<port>; the console is at"
          + " /vms/<namespace>/<name>/console below it.")
  @Size(max = 128)
  private String url;

  @JsonPropertyDescription(
      "SHA-256 of the DER encoding of the agent's serving certificate, 64 lower-case hex digits;"
          + " a client trusts exactly that certificate.")
  @Size(min = 64, max = 64)
  private String certificateSha256;

  public ConsoleEndpoint() {}

  public ConsoleEndpoint(String url, String certificateSha256) {
    this.url = url;
    this.certificateSha256 = certificateSha256;
  }

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public String getCertificateSha256() {
    return certificateSha256;
  }

  public void setCertificateSha256(String certificateSha256) {
    this.certificateSha256 = certificateSha256;
  }
}
