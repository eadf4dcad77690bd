/**
 * Per-thread seccomp filters for the VMM's vCPU and device threads, installed through FFM.
 *
 * <p>{@link dev.hearth.vmm.sys.seccomp.BpfProgram} assembles classic BPF; {@link
 * dev.hearth.vmm.sys.seccomp.SeccompFilter} compiles an allow-list of system calls (some narrowed
 * by argument) into one; {@link dev.hearth.vmm.sys.seccomp.ThreadProfile} holds the allow-list of
 * each kind of VMM thread; {@link dev.hearth.vmm.sys.seccomp.ThreadSandbox} installs it on the
 * calling thread. A filter binds only the thread that installs it (no {@code TSYNC}): the rest of
 * the JVM (its GC, compiler and the agent's own threads) runs unfiltered, as Firecracker's API
 * thread runs under a wider filter than its vCPUs.
 */
package dev.hearth.vmm.sys.seccomp;
