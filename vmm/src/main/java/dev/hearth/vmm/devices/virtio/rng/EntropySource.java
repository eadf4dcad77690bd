package dev.hearth.vmm.devices.virtio.rng;

import java.security.SecureRandom;

/** Where virtio-rng gets its bytes. */
@FunctionalInterface
public interface EntropySource {

  /** Fills {@code buf} with random bytes. */
  void fill(byte[] buf);

  /** The host's strong source: {@link SecureRandom} (backed by the kernel's getrandom/urandom). */
  static EntropySource secureRandom() {
    SecureRandom random = new SecureRandom();
    return random::nextBytes;
  }
}
