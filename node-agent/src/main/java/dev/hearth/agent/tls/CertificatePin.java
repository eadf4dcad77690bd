package dev.hearth.agent.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts one server certificate, named by its SHA-256: the hash the agent published through the API
 * server, which the client already trusts. Host names are not checked: the hash names the exact
 * certificate, which is stronger than a name (the agent is reached by its node's address).
 */
public final class CertificatePin extends X509ExtendedTrustManager {
  private final String sha256;

  /** {@code sha256}: hex, upper or lower case, colons allowed (as openssl prints it). */
  public CertificatePin(String sha256) {
    String hex = sha256.replace(":", "").toLowerCase(Locale.ROOT);
    if (!hex.matches("[0-9a-f]{64}")) {
      throw new TlsException("'" + sha256 + "' is not a SHA-256 certificate hash");
    }
    this.sha256 = hex;
  }

  /** A client context that trusts only the pinned certificate. */
  public SSLContext clientContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {this}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new TlsException("cannot make a TLS client context: " + e, e);
    }
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the server presented no certificate");
    }
    String got = ServingCertificate.sha256(chain[0]);
    if (!got.equals(sha256)) {
      throw new CertificateException(
          "the server's certificate has SHA-256 " + got + ", not the published " + sha256);
    }
    chain[0].checkValidity();
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("a client context does not authenticate clients");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("a client context does not authenticate clients");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("a client context does not authenticate clients");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
