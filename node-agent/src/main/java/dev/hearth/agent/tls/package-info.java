/**
 * The agent's TLS serving identity and how a client recognises it. The agent serves consoles and
 * metrics over TLS with a self-signed certificate it makes once and keeps in its state folder
 * ({@link dev.hearth.agent.tls.ServingCertificate}); it publishes the certificate's SHA-256 through
 * the API server, and a client trusts exactly that certificate ({@link
 * dev.hearth.agent.tls.CertificatePin}), as SSH trusts a known host key.
 */
package dev.hearth.agent.tls;
