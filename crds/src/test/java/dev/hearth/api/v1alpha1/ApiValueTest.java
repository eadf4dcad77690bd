package dev.hearth.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
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
  void recordPartsReadAndWriteTheJsonTheApiServerStores() {
    // The client's own serialization, as the operator, the agent and server-side apply use it.
    KubernetesSerialization json = new KubernetesSerialization();
    DriveSpec d =
        json.unmarshal(
            "{\"name\":\"data\",\"source\":{\"path\":\"disk.img\"},"
                + "\"rateLimiter\":{\"ops\":{\"size\":10,\"refillTimeMs\":100,"
                + "\"oneTimeBurst\":5}}}",
            DriveSpec.class);
    assertThat(d.getRateLimiter())
        .isEqualTo(new RateLimiterSpec(null, new TokenBucketSpec(10L, 100L, 5L)));
    assertThat(json.asJson(new RateLimiterSpec(new TokenBucketSpec(10, 100), null)))
        .isEqualTo("{\"bandwidth\":{\"size\":10,\"refillTimeMs\":100}}");
  }

  @Test
  void partsOfOtherClassesAreNeverEqual() {
    assertThat(new RootfsSpec(ImageSource.ofPath("x")))
        .isNotEqualTo(new KernelSpec(ImageSource.ofPath("x")))
        .isNotEqualTo(null);
  }
}
