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
 * vCPUs stopped and why it was suspended. The record outlives the agent, so that the next agent
 * restores the VM instead of booting it; a snapshot without it (a crash mid-write) is never
 * restored. The reason is kept here rather than only in the VM's status because an agent that
 * suspends on its way out may not get to write the status any more.
 */
final class SuspendedSnapshots {
  /**
   * A complete snapshot waiting to be restored.
   *
   * @param since when the guest's vCPUs stopped
   * @param reason why it was suspended: {@code AgentShutdown} or {@code SpecChanged}; empty in a
   *     record written before reasons were kept
   */
  record Suspension(Instant since, Optional<String> reason) {}

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

  /** When and why the VM was suspended, if a complete snapshot of it waits to be restored. */
  Optional<Suspension> suspension(String uid) {
    try {
      // "<epoch millis> <reason>"; the reason is one word of the agent's own.
      String[] fields = Files.readString(record(uid)).strip().split(" ", 2);
      Instant since = Instant.ofEpochMilli(Long.parseLong(fields[0]));
      Optional<String> reason =
          fields.length == 2 && fields[1].matches("[A-Za-z]{1,64}")
              ? Optional.of(fields[1])
              : Optional.empty();
      return Optional.of(new Suspension(since, reason));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty(); // unreadable: boot afresh rather than trust it
    }
  }

  /**
   * Records that the snapshot in {@link #dir} is complete, taken when vCPUs stopped at since, and
   * suspended for {@code reason} (one word).
   */
  void recordSuspended(String uid, Instant since, String reason) throws IOException {
    PrivateFiles.directories(ctx.vmDir(uid));
    AtomicFiles.writeString(record(uid), since.toEpochMilli() + " " + reason);
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
