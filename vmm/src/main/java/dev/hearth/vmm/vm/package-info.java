/**
 * The VM: {@link dev.hearth.vmm.vm.MicroVm} (create, start, pause, stop, close), its parts and
 * devices wired from a {@code config}, one platform thread per vCPU and one event loop per VM,
 * exits and counters. The composition root of the VMM: may use every VMM package. Knows nothing of
 * Kubernetes.
 */
package dev.hearth.vmm.vm;
