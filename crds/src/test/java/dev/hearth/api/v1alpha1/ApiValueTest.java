package dev.hearth.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The API model's one equality: same class, same JSON. */
class ApiValueTest {
  @Test
  void partsAreEqualWhenTheirJsonIs() {
    DriveSpec a = new DriveSpec("data", ImageSource.ofPath("disk.img"));
    DriveSpec b = new DriveSpec("data", ImageSource.ofPath("disk.img"));
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    b.setSerial("s1");
    assertThat(a).isNotEqualTo(b);
    a.setSerial("s1");
    a.setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(10, 100), null));
    assertThat(a).isNotEqualTo(b);
    b.setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(10, 100), null));
    assertThat(a).isEqualTo(b);

    MicroVMSpec s = new MicroVMSpec();
    MicroVMSpec t = new MicroVMSpec();
    s.setDrives(List.of(a));
    t.setDrives(List.of(b));
    assertThat(s).isEqualTo(t).hasSameHashCodeAs(t);
    t.setVcpus(2);
    assertThat(s).isNotEqualTo(t);
  }

  @Test
  void partsOfOtherClassesAreNeverEqual() {
    assertThat(new RootfsSpec(ImageSource.ofPath("x")))
        .isNotEqualTo(new KernelSpec(ImageSource.ofPath("x")))
        .isNotEqualTo(null);
  }
}
