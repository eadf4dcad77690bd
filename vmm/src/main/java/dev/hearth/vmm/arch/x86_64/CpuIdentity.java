package dev.hearth.vmm.arch.x86_64;

import dev.hearth.vmm.kvm.CpuidEntry;
import dev.hearth.vmm.snapshot.SnapshotException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What a snapshot needs of the CPU it resumes on: the same vendor, and every feature the CPU it was
 * taken on offered (CPUID leaf 1 ECX/EDX, leaf 7 subleaf 0 EBX/ECX/EDX, leaf 0x80000001 ECX/EDX, as
 * KVM reports them). A guest that used a feature the new CPU lacks would fault, or worse.
 *
 * @param vendor CPUID leaf 0's vendor string, e.g. {@code GenuineIntel}
 * @param signature leaf 1 EAX: family, model, stepping (recorded, not compared)
 * @param features the seven feature words, in the order above
 */
public record CpuIdentity(String vendor, int signature, long[] features) {
  private static final String[] WORDS = {
    "leaf 1 ECX",
    "leaf 1 EDX",
    "leaf 7 EBX",
    "leaf 7 ECX",
    "leaf 7 EDX",
    "leaf 0x80000001 ECX",
    "leaf 0x80000001 EDX"
  };

  /** The identity KVM's supported CPUID describes. */
  public static CpuIdentity of(List<CpuidEntry> cpuid) {
    CpuidEntry l0 = find(cpuid, 0);
    CpuidEntry l1 = find(cpuid, 1);
    CpuidEntry l7 = find(cpuid, 7);
    CpuidEntry ext = find(cpuid, 0x80000001);
    ByteBuffer v = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    v.putInt(l0.ebx()).putInt(l0.edx()).putInt(l0.ecx());
    return new CpuIdentity(
        new String(v.array(), StandardCharsets.US_ASCII),
        l1.eax(),
        new long[] {
          u(l1.ecx()),
          u(l1.edx()),
          u(l7.ebx()),
          u(l7.ecx()),
          u(l7.edx()),
          u(ext.ecx()),
          u(ext.edx())
        });
  }

  /**
   * Checks that a snapshot taken on this CPU can resume on {@code host}.
   *
   * @throws SnapshotException naming the vendor, or the feature word and bits {@code host} lacks
   */
  public void requireResumableOn(CpuIdentity host) {
    if (!vendor.equals(host.vendor)) {
      throw new SnapshotException(
          "the snapshot was taken on a " + vendor + " CPU; this host's is " + host.vendor);
    }
    if (features.length != WORDS.length || host.features.length != WORDS.length) {
      throw new SnapshotException("the snapshot's CPU features are malformed");
    }
    for (int i = 0; i < WORDS.length; i++) {
      long missing = features[i] & ~host.features[i];
      if (missing != 0) {
        throw new SnapshotException(
            "this host's CPU lacks features the snapshot's had: CPUID "
                + WORDS[i]
                + " bits 0x"
                + Long.toHexString(missing));
      }
    }
  }

  private static CpuidEntry find(List<CpuidEntry> cpuid, int function) {
    return cpuid.stream()
        .filter(e -> e.function() == function && e.index() == 0)
        .findFirst()
        .orElse(new CpuidEntry(function, 0, 0, 0, 0, 0, 0));
  }

  private static long u(int word) {
    return Integer.toUnsignedLong(word);
  }
}
