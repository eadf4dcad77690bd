package dev.hearth.agent.reconcile;

import dev.hearth.agent.state.AtomicFiles;
import dev.hearth.agent.state.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a suspended VM's snapshot lies on the node, and the record that it is suspended: {@code
 * <vmDir>/snapshot/} (the VMM's state and memory files, in a 0700 directory of the agent's) and
 * {@code <vmDir>/suspended}, written once the snapshot is complete and holding when the guest's
 * vCPUs stopped. The record outlives the agent, so that the next agent restores the VM instead of
 * booting it; a snapshot without it (a crash mid-write) is never restored.
 */
final class SuspendedSnapshots {
  private static final Logger LOG = LoggerFactory.getLogger(SuspendedSnapshots.class);

  private final AgentContext ctx;

  SuspendedSnapshots(AgentContext ctx) {
    this.ctx = ctx;
  }

  /** The snapshot directory of VM {@code uid}; it must stay while a VM restored from it runs. */
  Path dir(String uid) {
    return ctx.vmDir(uid).resolve("snapshot");
  }

  private Path record(String uid) {
    return ctx.vmDir(uid).resolve("suspended");
  }

  /** When the VM's vCPUs stopped, if a complete snapshot of it waits to be restored. */
  Optional<Instant> suspendedSince(String uid) {
    try {
      return Optional.of(
          Instant.ofEpochMilli(Long.parseLong(Files.readString(record(uid)).strip())));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty(); // unreadable: boot afresh rather than trust it
    }
  }

  /** Records that the snapshot in {@link #dir} is complete, taken when vCPUs stopped at since. */
  void recordSuspended(String uid, Instant since) throws IOException {
    PrivateFiles.directories(ctx.vmDir(uid));
    AtomicFiles.writeString(record(uid), Long.toString(since.toEpochMilli()));
  }

  /** The VM was restored: its snapshot stays mapped, but is no longer one to restore. */
  void restored(String uid) throws IOException {
    Files.deleteIfExists(record(uid));
  }

  /** Drops the record and the snapshot; only while no VM restored from it runs. */
  void discard(String uid) throws IOException {
    Files.deleteIfExists(record(uid));
    PrivateFiles.deleteTree(dir(uid));
  }

  /** As {@link #discard}, logging a failure: nothing runs from the snapshot, so it may linger. */
  void drop(String uid) {
    try {
      discard(uid);
    } catch (IOException e) {
      LOG.warn("VM {}: cannot remove its snapshot: {}", uid, e.toString());
    }
  }
}
