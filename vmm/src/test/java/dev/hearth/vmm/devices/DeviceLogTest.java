package dev.hearth.vmm.devices;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceLogTest {
  private static final System.Logger LOG = System.getLogger(DeviceLogTest.class.getName());

  @Test
  void aBurstPassesThenOneLineASecondWithTheCountOfWhatWasHeldBack() {
    long[] now = {0};
    List<String> lines = new ArrayList<>();
    DeviceLog log =
        new DeviceLog("vm1", DeviceLog.DEFAULT_LIMIT, () -> now[0], (l, lv, m) -> lines.add(m));
    for (int i = 0; i < 1000; i++) {
      log.log(LOG, Level.WARNING, "device {0} broke", i);
    }
    assertThat(lines).hasSize(10).first().isEqualTo("vm1: device 0 broke");
    assertThat(log.suppressed()).isEqualTo(990);
    now[0] += 1_000_000_000L; // a second later, one more line may pass
    log.log(LOG, Level.WARNING, "device {0} broke", "x");
    assertThat(lines.subList(10, 12))
        .containsExactly(
            "vm1: 990 device log lines suppressed (rate limit)", "vm1: device x broke");
    log.log(LOG, Level.WARNING, "device {0} broke", 1001);
    assertThat(lines).hasSize(12);
  }

  @Test
  void linesBelowTheLoggersLevelSpendNoBudget() {
    List<String> lines = new ArrayList<>();
    DeviceLog log =
        new DeviceLog("vm2", DeviceLog.DEFAULT_LIMIT, () -> 0, (l, lv, m) -> lines.add(m));
    for (int i = 0; i < 1000; i++) {
      log.log(LOG, Level.TRACE, "noise");
    }
    log.log(LOG, Level.WARNING, "signal");
    assertThat(lines).containsExactly("vm2: signal");
    assertThat(log.suppressed()).isZero();
  }
}
