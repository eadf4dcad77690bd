/**
 * The state convention and the snapshot file format. Each device, virtqueue, transport, rate
 * limiter and vCPU exports its state as a record ({@link dev.hearth.vmm.snapshot.Snapshottable})
 * and takes it back on a freshly built twin; {@link dev.hearth.vmm.snapshot.StateCodec} turns a
 * tree of such records into bytes and back, and {@link dev.hearth.vmm.snapshot.SnapshotFile} frames
 * those bytes with a magic, a format version and a SHA-256 (docs/snapshot-format.md). Uses only the
 * JDK: every other package of the VMM may depend on it, and it depends on none of them.
 */
package dev.hearth.vmm.snapshot;
