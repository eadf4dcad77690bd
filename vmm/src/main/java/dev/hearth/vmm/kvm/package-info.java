/**
 * KVM through its ioctls: {@link dev.hearth.vmm.kvm.Kvm}, {@link dev.hearth.vmm.kvm.VmFd} and
 * {@link dev.hearth.vmm.kvm.VcpuFd} (one AutoCloseable per kind of fd), every ioctl number in one
 * place, and vCPU exits as a sealed interface of records. Uses {@code sys}.
 */
package dev.hearth.vmm.kvm;
