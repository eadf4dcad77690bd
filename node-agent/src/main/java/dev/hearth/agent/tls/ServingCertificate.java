package dev.hearth.agent.tls;

import dev.hearth.agent.state.PrivateFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The agent's TLS identity: a self-signed ECDSA P-256 certificate, made on first start and kept
 * (PKCS#12, mode 0600) in the agent's state folder, so that its hash stays the same across
 * restarts, as the kubelet keeps its self-signed serving certificate under {@code
 * /var/lib/kubelet/pki}. It is made again when missing, unreadable or within a month of expiry.
 */
public final class ServingCertificate {
  private static final char[] STORE_PASSWORD = "hearth".toCharArray(); // the file mode protects it
  private static final String ALIAS = "serving";
  private static final Duration VALIDITY = Duration.ofDays(3 * 365);
  private static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private final X509Certificate certificate;
  private final PrivateKey key;

  private ServingCertificate(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /** Loads the certificate kept in {@code file}, or makes and keeps a new one. */
  public static ServingCertificate loadOrCreate(Path file, String commonName) {
    try {
      if (Files.isRegularFile(file)) {
        ServingCertificate kept = load(Files.readAllBytes(file));
        if (kept != null
            && kept.certificate
                .getNotAfter()
                .toInstant()
                .isAfter(Instant.now().plus(RENEW_BEFORE))) {
          return kept;
        }
      }
      ServingCertificate made = create(commonName);
      made.store(file);
      return made;
    } catch (IOException | GeneralSecurityException e) {
      throw new TlsException("cannot make or keep the serving certificate " + file + ": " + e, e);
    }
  }

  /** A new certificate, kept nowhere (tests). */
  public static ServingCertificate create(String commonName) throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = gen.generateKeyPair();
    Instant now = Instant.now();
    return new ServingCertificate(
        SelfSigned.issue(keys, commonName, now.minus(Duration.ofHours(1)), now.plus(VALIDITY)),
        keys.getPrivate());
  }

  private static ServingCertificate load(byte[] p12) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(new ByteArrayInputStream(p12), STORE_PASSWORD);
      if (store.getKey(ALIAS, STORE_PASSWORD) instanceof PrivateKey key
          && store.getCertificate(ALIAS) instanceof X509Certificate cert) {
        return new ServingCertificate(cert, key);
      }
      return null;
    } catch (IOException | GeneralSecurityException e) {
      return null; // torn or foreign: make a new one
    }
  }

  private void store(Path file) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(ALIAS, key, STORE_PASSWORD, new Certificate[] {certificate});
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    store.store(bytes, STORE_PASSWORD);
    PrivateFiles.directories(file.getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".new");
    Files.deleteIfExists(temp);
    try (FileChannel ch = PrivateFiles.createNew(temp)) {
      Channels.newOutputStream(ch).write(bytes.toByteArray());
      ch.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The certificate clients are told to expect. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The SHA-256 of the certificate's DER encoding, lower-case hex: what clients pin. */
  public String sha256() {
    return sha256(certificate);
  }

  /** The SHA-256 of {@code cert}'s DER encoding, lower-case hex. */
  public static String sha256(X509Certificate cert) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (CertificateEncodingException | java.security.NoSuchAlgorithmException e) {
      throw new TlsException("cannot hash certificate " + cert.getSubjectX500Principal(), e);
    }
  }

  /** A server context presenting this certificate (TLS 1.2 and 1.3). */
  public SSLContext serverContext() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(ALIAS, key, STORE_PASSWORD, new Certificate[] {certificate});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, STORE_PASSWORD);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new TlsException("cannot make a TLS server context: " + e, e);
    }
  }
}
