package dev.hearth.vmm.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.testing.HostRequirement.Verdict;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HostRequirementTest {

  @Test
  void runsWhenTheHostHasIt() {
    assertThat(HostRequirement.decide(Optional.empty(), false)).isEqualTo(Verdict.RUN);
    assertThat(HostRequirement.decide(Optional.empty(), true)).isEqualTo(Verdict.RUN);
  }

  @Test
  void skipsLocallyButFailsOnCiWhenMissing() {
    Optional<String> missing = Optional.of("/dev/kvm does not exist");
    assertThat(HostRequirement.decide(missing, false)).isEqualTo(Verdict.SKIP);
    assertThat(HostRequirement.decide(missing, true)).isEqualTo(Verdict.FAIL);
  }

  @Test
  void probesGiveAReasonOrNothing() {
    for (HostRequirement requirement : HostRequirement.values()) {
      requirement.whyMissing().ifPresent(why -> assertThat(why).isNotBlank());
    }
  }
}
