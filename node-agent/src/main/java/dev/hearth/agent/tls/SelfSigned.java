package dev.hearth.agent.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * A minimal X.509 v3 certificate, DER-encoded by hand because the JDK has no public API to issue
 * one: an ECDSA P-256 key signing itself, a common name, a validity, no extensions. Clients pin the
 * whole certificate by its hash, so no name or usage in it is relied on.
 */
final class SelfSigned {
  // ecdsa-with-SHA256, 1.2.840.10045.4.3.2
  private static final byte[] ECDSA_SHA256 = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02
  };
  // commonName, 2.5.4.3
  private static final byte[] CN = {0x06, 0x03, 0x55, 0x04, 0x03};
  private static final DateTimeFormatter UTC_TIME =
      DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  private SelfSigned() {}

  static X509Certificate issue(KeyPair keys, String commonName, Instant notBefore, Instant notAfter)
      throws GeneralSecurityException {
    byte[] serial = new byte[16];
    new SecureRandom().nextBytes(serial);
    serial[0] = (byte) ((serial[0] & 0x3f) | 0x40); // positive, no leading zero byte
    byte[] name =
        tlv(0x30, tlv(0x31, tlv(0x30, CN, tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
    byte[] tbs =
        tlv(
            0x30,
            tlv(0xa0, tlv(0x02, new byte[] {2})), // v3
            tlv(0x02, new BigInteger(serial).toByteArray()),
            ECDSA_SHA256,
            name,
            tlv(0x30, time(notBefore), time(notAfter)),
            name,
            keys.getPublic().getEncoded()); // SubjectPublicKeyInfo, already DER
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(keys.getPrivate());
    signer.update(tbs);
    byte[] sig = signer.sign();
    byte[] bits = new byte[sig.length + 1]; // no unused bits
    System.arraycopy(sig, 0, bits, 1, sig.length);
    byte[] der = tlv(0x30, tbs, ECDSA_SHA256, tlv(0x03, bits));
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  private static byte[] time(Instant t) {
    // UTCTime holds years up to 2049; certificates made here end well before.
    return tlv(0x17, UTC_TIME.format(t).getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] tlv(int tag, byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    int n = body.size();
    ByteArrayOutputStream out = new ByteArrayOutputStream(n + 6);
    out.write(tag);
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      throw new IllegalArgumentException("DER value of " + n + " bytes");
    }
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }
}
