package dev.hearth.api.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class EventRecorderDescribeTest {
  @Test
  void aFailedSendNamesWhatActuallyWentWrong() {
    KubernetesClientException e =
        new KubernetesClientException(
            "An error has occurred.", new IllegalStateException(new IOException("client closed")));
    assertThat(EventRecorder.describe(e))
        .isEqualTo("An error has occurred. (java.io.IOException: client closed)");
    assertThat(EventRecorder.describe(new KubernetesClientException("Forbidden")))
        .isEqualTo("Forbidden");
  }
}
