package dev.hearth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.sys.SysException;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Code run in a network namespace, and the failures that name the namespace file. */
class NetNamespaceTest {
  @Test
  void aFileThatIsNoNamespaceFailsNamingIt() {
    // setns refuses /dev/null (EINVAL), or any namespace to a caller without CAP_SYS_ADMIN.
    assertThatThrownBy(() -> NetNamespace.call(Path.of("/dev/null"), () -> 1))
        .isInstanceOf(NetworkException.class)
        .hasMessageStartingWith("setns(/dev/null, CLONE_NEWNET) failed: ");
    assertThatThrownBy(() -> NetNamespace.call(Path.of("/nonexistent/netns"), () -> 1))
        .isInstanceOf(SysException.class)
        .hasMessageContaining("/nonexistent/netns");
  }

  @Test
  void theBodysResultAndCheckedFailuresComeBack() {
    Path own = Path.of("/proc/self/ns/net");
    if (!"root".equals(System.getProperty("user.name"))) {
      return; // entering even one's own namespace needs CAP_SYS_ADMIN
    }
    assertThat(NetNamespace.call(own, () -> Thread.currentThread().getName()))
        .isEqualTo("hearth-netns");
    assertThatThrownBy(
            () ->
                NetNamespace.call(
                    own,
                    () -> {
                      throw new IOException("no tap");
                    }))
        .isInstanceOf(NetworkException.class)
        .hasMessage("no tap")
        .hasCauseInstanceOf(IOException.class);
  }
}
