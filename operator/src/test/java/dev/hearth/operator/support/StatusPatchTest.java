package dev.hearth.operator.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.OperatorException;
import org.junit.jupiter.api.Test;

class StatusPatchTest {

  private static KubernetesClientException status(int code) {
    return new KubernetesClientException("status " + code, code, null);
  }

  @Test
  void aConflictIsFoundUnderTheWrappersJosdkAdds() {
    // As JOSDK's metrics timer hands a reconciler's 409 to updateErrorStatus.
    assertThat(StatusPatch.causedByConflict(new OperatorException(status(409)))).isTrue();
    assertThat(StatusPatch.causedByConflict(status(409))).isTrue();
    assertThat(StatusPatch.causedByConflict(new OperatorException(status(422)))).isTrue();
  }

  @Test
  void otherFailuresAreNotConflicts() {
    assertThat(StatusPatch.causedByConflict(new OperatorException(status(500)))).isFalse();
    assertThat(StatusPatch.causedByConflict(new IllegalStateException("boom"))).isFalse();
    assertThat(StatusPatch.causedByConflict(null)).isFalse();
  }
}
