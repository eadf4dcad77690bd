package dev.hearth.vmm.vm;

import dev.hearth.vmm.arch.x86_64.CpuIdentity;
import dev.hearth.vmm.devices.legacy.BootTimerState;
import dev.hearth.vmm.devices.legacy.GuestExitState;
import dev.hearth.vmm.devices.legacy.I8042State;
import dev.hearth.vmm.devices.legacy.SerialState;
import dev.hearth.vmm.kvm.KvmVmState;
import dev.hearth.vmm.kvm.VcpuState;
import java.util.List;

/**
 * Everything a snapshot's state file holds (docs/snapshot-format.md); guest memory is in the memory
 * file beside it.
 *
 * @param vmName the name of the VM it was taken of (informational)
 * @param vcpuCount vCPUs; the restored VM must have as many
 * @param memoryBytes guest memory; the restored VM must have as much, and the memory file holds it
 * @param cpu the CPU it was taken on; the restoring host's must be compatible
 * @param vm the in-kernel irqchip, PIT and kvmclock
 * @param vcpus each vCPU, by id
 * @param guestExit the report of the guest's workload, if its init made one
 * @param devices the virtio devices, in MMIO slot order
 */
public record VmSnapshotState(
    String vmName,
    int vcpuCount,
    long memoryBytes,
    CpuIdentity cpu,
    KvmVmState vm,
    List<VcpuState> vcpus,
    SerialState serial,
    I8042State i8042,
    BootTimerState bootTimer,
    GuestExitState guestExit,
    List<VirtioDeviceState> devices) {}
