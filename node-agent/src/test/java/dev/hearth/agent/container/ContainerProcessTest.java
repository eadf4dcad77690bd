package dev.hearth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContainerProcessTest {
  private static final ImageConfig IMAGE =
      new ImageConfig(
          List.of("/entry", "--flag"),
          List.of("serve", "--port=80"),
          List.of("PATH=/opt/bin:/bin", "LANG=C.UTF-8", "MODE=image"),
          Optional.of("/srv"),
          Optional.of("app:staff"));

  private static ContainerProcess merge(
      List<String> command, List<String> args, Map<String, String> env, String cwd)
      throws ContainerException {
    return ContainerProcess.merge(
        IMAGE, new ContainerProcess.Overrides(command, args, env, Optional.ofNullable(cwd)));
  }

  @Test
  void theImagesDefaultsRunWithoutOverrides() throws Exception {
    ContainerProcess p = ContainerProcess.merge(IMAGE, ContainerProcess.Overrides.NONE);
    assertThat(p.argv()).containsExactly("/entry", "--flag", "serve", "--port=80");
    assertThat(p.env()).containsExactly("PATH=/opt/bin:/bin", "LANG=C.UTF-8", "MODE=image");
    assertThat(p.workingDir()).isEqualTo("/srv");
    assertThat(p.user()).isEqualTo("app:staff");
  }

  @Test
  void argsReplaceCmdAndKeepTheEntrypoint() throws Exception {
    assertThat(merge(List.of(), List.of("check"), Map.of(), null).argv())
        .containsExactly("/entry", "--flag", "check");
  }

  @Test
  void commandReplacesTheEntrypointAndDropsCmd() throws Exception {
    assertThat(merge(List.of("/bin/sh", "-c"), List.of(), Map.of(), null).argv())
        .containsExactly("/bin/sh", "-c");
    assertThat(merge(List.of("/bin/sh", "-c"), List.of("exit 3"), Map.of(), null).argv())
        .containsExactly("/bin/sh", "-c", "exit 3");
  }

  @Test
  void specEnvReplacesByNameAndAppendsTheRest() throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("MODE", "spec");
    env.put("EXTRA", "a=b c");
    assertThat(merge(List.of(), List.of(), env, "/work").env())
        .containsExactly("PATH=/opt/bin:/bin", "LANG=C.UTF-8", "MODE=spec", "EXTRA=a=b c");
    assertThat(merge(List.of(), List.of(), env, "/work").workingDir()).isEqualTo("/work");
  }

  @Test
  void anImageThatSaysNothingGetsDockersDefaults() throws Exception {
    ContainerProcess p =
        ContainerProcess.merge(
            ImageConfig.EMPTY,
            new ContainerProcess.Overrides(
                List.of("/bin/true"), List.of(), Map.of(), Optional.empty()));
    assertThat(p.env()).containsExactly("PATH=" + ContainerProcess.DEFAULT_PATH);
    assertThat(p.workingDir()).isEqualTo("/");
    assertThat(p.user()).isEmpty();
  }

  @Test
  void nothingToRunIsRefused() {
    assertThatThrownBy(
            () -> ContainerProcess.merge(ImageConfig.EMPTY, ContainerProcess.Overrides.NONE))
        .isInstanceOf(ContainerException.class)
        .hasMessageContaining("no Entrypoint or Cmd");
  }

  @Test
  void theImageConfigIsReadFromItsConfigObject() throws Exception {
    String json =
        """
        {"architecture":"amd64","os":"linux","config":{"User":"1000:1000",
         "Env":["A=1"],"Entrypoint":null,"Cmd":["/bin/sh"],"WorkingDir":""},
         "rootfs":{"type":"layers","diff_ids":[]}}
        """;
    ImageConfig c = ImageConfig.parse(json.getBytes(StandardCharsets.UTF_8));
    assertThat(c.entrypoint()).isEmpty();
    assertThat(c.cmd()).containsExactly("/bin/sh");
    assertThat(c.env()).containsExactly("A=1");
    assertThat(c.workingDir()).isEmpty();
    assertThat(c.user()).contains("1000:1000");
    assertThat(ImageConfig.parse("{}".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(ImageConfig.EMPTY);
    assertThatThrownBy(
            () ->
                ImageConfig.parse("{\"config\":{\"Cmd\":\"sh\"}}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("Cmd is not a list");
  }
}
