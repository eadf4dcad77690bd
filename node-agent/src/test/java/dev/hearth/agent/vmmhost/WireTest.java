package dev.hearth.agent.vmmhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.VmLaunch;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The frames between the agent and a VMM process, and what a bad frame gets. */
class WireTest {
  private static final VmLaunch.Bucket BUCKET = new VmLaunch.Bucket(1000, 100, 50);

  @Test
  void aLaunchCrossesTheWireWholeButForItsConsoleAndMeters() throws Exception {
    VmLaunch sent =
        new VmLaunch(
            "team-a/web",
            2,
            256,
            Path.of("/var/lib/hearth/images/vmlinux"),
            Optional.of(Path.of("/var/lib/hearth/images/initrd")),
            "console=ttyS0 ip=10.0.0.2",
            "quiet",
            List.of(
                new VmLaunch.Disk("root", Path.of("/vms/root.ext4"), false, Optional.of("r1")),
                new VmLaunch.Disk("data", Path.of("/vms/data.img"), true, Optional.empty())),
            List.of(new VmLaunch.Nic("eth0", "hth1234", "02:00:00:00:00:01")),
            OptionalLong.of(7),
            new VmLaunch.Limits(
                Map.of("root", new VmLaunch.RateLimit(Optional.of(BUCKET), Optional.empty())),
                Map.of("eth0", new VmLaunch.RateLimit(Optional.empty(), Optional.of(BUCKET))),
                Map.of()),
            OutputStream.nullOutputStream(),
            VmMeters.NONE);
    Wire.Out out = new Wire.Out();
    LaunchCodec.write(out, sent);
    OutputStream console = new ByteArrayOutputStream();
    VmLaunch got = LaunchCodec.read(new Wire.In(out.bytes()), console, VmMeters.NONE);
    assertThat(got).usingRecursiveComparison().ignoringFields("console").isEqualTo(sent);
    assertThat(got.console()).isSameAs(console);
  }

  @Test
  void anExitCrossesWholeAndItsTextIsCut() throws Exception {
    GuestExit exit = GuestExit.containerSignalled(9);
    Wire.Out out = new Wire.Out();
    LaunchCodec.write(out, exit);
    assertThat(LaunchCodec.readExit(new Wire.In(out.bytes()))).isEqualTo(exit);

    Wire.Out longOne = new Wire.Out();
    LaunchCodec.write(longOne, new GuestExit("VmmError", "x".repeat(100_000), false));
    GuestExit cut = LaunchCodec.readExit(new Wire.In(longOne.bytes()));
    assertThat(cut.message()).hasSizeLessThan(LaunchCodec.MAX_MESSAGE + 10);
  }

  @Test
  void framesComeBackAsWrittenAndTheStreamEndsBetweenThem() throws Exception {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    Wire.write(stream, Wire.Op.CONSOLE, new Wire.Out().i32(3).str("tick 1\n"));
    Wire.write(stream, Wire.Op.REPLY, new Wire.Out().i64(42).bool(true));
    ByteArrayInputStream in = new ByteArrayInputStream(stream.toByteArray());
    Wire.Frame a = Wire.read(in);
    assertThat(a.op()).isEqualTo(Wire.Op.CONSOLE);
    assertThat(a.body().i32()).isEqualTo(3);
    assertThat(a.body().str()).isEqualTo("tick 1\n");
    Wire.Frame b = Wire.read(in);
    assertThat(b.body().i64()).isEqualTo(42);
    assertThat(b.body().bool()).isTrue();
    assertThat(Wire.read(in)).isNull();
  }

  @Test
  void aFrameCutShortIsAnError() throws Exception {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    Wire.write(stream, Wire.Op.CONSOLE, new Wire.Out().i32(3).str("tick"));
    byte[] whole = stream.toByteArray();
    byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 2);
    assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(cut)))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void lengthsAreCheckedBeforeAnythingIsMade() {
    // A frame that claims 2 GiB, one of an unknown type.
    assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(new byte[] {0x7f, -1, -1, -1, 65})))
        .isInstanceOf(VmmHostException.class)
        .hasMessageContaining("frame length");
    assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(new byte[] {0, 0, 0, 0, 99})))
        .isInstanceOf(VmmHostException.class)
        .hasMessageContaining("unknown frame type 99");
    // A string that claims more than its frame holds; a count of more disks than may be.
    assertThatThrownBy(() -> new Wire.In(new Wire.Out().i32(1 << 30).bytes()).str())
        .isInstanceOf(VmmHostException.class)
        .hasMessageContaining("runs past the frame");
    assertThatThrownBy(
            () -> new Wire.In(new Wire.Out().i32(1_000_000).bytes()).count(256, 16, "disks"))
        .isInstanceOf(VmmHostException.class)
        .hasMessageContaining("disks");
    assertThatThrownBy(() -> new Wire.In(new Wire.Out().i32(-1).bytes()).bytes())
        .isInstanceOf(VmmHostException.class);
  }

  @Test
  void aBodyOverTheLimitIsNotSent() {
    byte[] big = new byte[Wire.MAX_BODY];
    assertThatThrownBy(
            () ->
                Wire.write(
                    new ByteArrayOutputStream(),
                    Wire.Op.CONSOLE,
                    new Wire.Out().i32(1).bytes(big, 0, big.length)))
        .isInstanceOf(VmmHostException.class)
        .hasMessageContaining("is over");
  }
}
