package dev.hearth.vmm.snapshot;

/**
 * Something whose state a snapshot holds: it exports the state as a record, and a twin built from
 * the same configuration takes it back. The record holds only what the guest can observe and the
 * configuration does not already say (registers, ring positions, token budgets); host resources
 * (fds, threads, sockets) are made again by whoever builds the twin.
 *
 * <p>Records are made of primitives, strings, {@code byte[]}, {@code long[]}, lists, optionals and
 * other such records, so that {@link StateCodec} can write them. Changing a record's components
 * changes the snapshot format, and {@link SnapshotFile#FORMAT_VERSION} must change with it.
 *
 * @param <S> the state record
 */
public interface Snapshottable<S extends Record> {
  /** The state now. The caller makes sure nothing changes it meanwhile (the VM is paused). */
  S saveState();

  /**
   * Takes {@code state} back; called on a twin that was built from the same configuration and has
   * not run yet.
   *
   * @throws SnapshotException if the state does not fit this twin
   */
  void restoreState(S state);
}
