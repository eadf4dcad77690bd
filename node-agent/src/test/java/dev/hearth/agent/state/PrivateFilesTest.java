package dev.hearth.agent.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateFilesTest {
  @TempDir Path dir;

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void foldersAreCreatedPrivateWithTheirParents() throws Exception {
    Path vm = PrivateFiles.directories(dir.resolve("vms/uid-1/disks"));
    assertThat(mode(vm)).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("vms/uid-1"))).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("vms"))).isEqualTo("rwx------");
  }

  @Test
  void anOpenFolderFromAnOlderAgentIsClosed() throws Exception {
    Path data = Files.createDirectory(dir.resolve("data"));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    PrivateFiles.directories(data);
    assertThat(mode(data)).isEqualTo("rwx------");
  }

  @Test
  void newFilesAreTheAgentsAlone() throws Exception {
    Path f = dir.resolve("blob");
    try (var ch = PrivateFiles.createNew(f)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
    }
    assertThat(mode(f)).isEqualTo("rw-------");
  }
}
