package dev.hearth.vmm.arch.x86_64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.kvm.CpuidEntry;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.StateCodec;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuIdentityTest {
  // "AuthenticAMD" as CPUID leaf 0 spells it: EBX, EDX, ECX.
  private static final CpuidEntry AMD =
      new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
  private static final CpuidEntry INTEL =
      new CpuidEntry(0, 0, 0, 0x10, 0x756e6547, 0x6c65746e, 0x49656e69);

  private static CpuIdentity cpu(CpuidEntry vendor, int leaf7Ebx) {
    return CpuIdentity.of(
        List.of(
            vendor,
            new CpuidEntry(1, 0, 0, 0x00a20f12, 0, 0x7ed8320b, 0x178bfbff),
            new CpuidEntry(7, 0, 0, 0, leaf7Ebx, 0, 0)));
  }

  @Test
  void aSnapshotResumesOnACpuWithTheSameVendorAndAtLeastItsFeatures() {
    CpuIdentity taken = cpu(AMD, 0x219c01a9);
    assertThat(taken.vendor()).isEqualTo("AuthenticAMD");
    taken.requireResumableOn(cpu(AMD, 0x219c01a9));
    taken.requireResumableOn(cpu(AMD, 0x219c01a9 | 0x20));
    CpuIdentity back = StateCodec.decode(StateCodec.encode(taken), CpuIdentity.class);
    back.requireResumableOn(cpu(AMD, 0x219c01a9));
  }

  @Test
  void anotherVendorOrAMissingFeatureIsRefusedByName() {
    CpuIdentity taken = cpu(AMD, 0x219c01a9);
    assertThatThrownBy(() -> taken.requireResumableOn(cpu(INTEL, 0x219c01a9)))
        .isInstanceOf(SnapshotException.class)
        .hasMessage("the snapshot was taken on a AuthenticAMD CPU; this host's is GenuineIntel");
    assertThatThrownBy(() -> taken.requireResumableOn(cpu(AMD, 0x219c01a9 & ~0x100)))
        .isInstanceOf(SnapshotException.class)
        .hasMessage(
            "this host's CPU lacks features the snapshot's had: CPUID leaf 7 EBX bits 0x100");
  }
}
